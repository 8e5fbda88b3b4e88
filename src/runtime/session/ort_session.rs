//! One ONNX Runtime session over a graph's ModelProto bytes: creation from [`SessionOptions`],
//! the declared inputs and outputs, and runs that check the feeds against them.

use std::collections::HashSet;
use std::path::PathBuf;

use ort::session::SessionInputValue;

use super::feeds::Feeds;
use super::options::SessionOptions;
use super::outputs::Outputs;
use super::value::dtype_of;
use crate::graph::DType;
use crate::runtime::error::{Result, RuntimeError};
use crate::runtime::library::environment;

/// A graph input or output as the session declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IoInfo {
    pub name: String,
    /// `None` when the element type is not one of ours (or not a tensor).
    pub dtype: Option<DType>,
    /// `None` for a dynamic (symbolic) dimension.
    pub shape: Vec<Option<usize>>,
}

/// One ONNX Runtime session: a graph ready to run.
pub struct Session {
    name: String,
    inner: ort::session::Session,
    inputs: Vec<IoInfo>,
    outputs: Vec<IoInfo>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("name", &self.name)
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .finish()
    }
}

fn io_info(outlet: &ort::value::Outlet) -> IoInfo {
    let dtype = outlet.dtype();
    IoInfo {
        name: outlet.name().to_string(),
        dtype: dtype.tensor_type().and_then(dtype_of),
        shape: dtype
            .tensor_shape()
            .map(|s| s.iter().map(|&d| usize::try_from(d).ok()).collect())
            .unwrap_or_default(),
    }
}

impl Session {
    /// Creates a session from serialized ModelProto bytes, initialising ONNX Runtime on first use.
    /// `name` identifies the graph in every error this session reports.
    pub fn from_bytes(
        name: impl Into<String>,
        model_bytes: &[u8],
        opts: &SessionOptions,
    ) -> Result<Session> {
        let name = name.into();
        let env = environment()?;
        let create_error = |message: String| RuntimeError::SessionCreate {
            graph: name.clone(),
            message,
        };
        let mut builder = ort::session::Session::builder(env)
            .map_err(|e| create_error(e.to_string()))?
            .with_optimization_level(opts.optimization.into())
            .map_err(|e| create_error(e.to_string()))?;
        if !opts.cpu_arena {
            builder = builder
                .with_execution_providers([ort::ep::CPU::default()
                    .with_arena_allocator(false)
                    .build()])
                .map_err(|e| create_error(e.to_string()))?;
        }
        if !opts.memory_pattern {
            builder = builder
                .with_memory_pattern(false)
                .map_err(|e| create_error(e.to_string()))?;
        }
        if let Some(n) = opts.intra_threads {
            builder = builder
                .with_intra_threads(n)
                .map_err(|e| create_error(e.to_string()))?;
        }
        if let Some(n) = opts.inter_threads {
            builder = builder
                .with_parallel_execution(true)
                .map_err(|e| create_error(e.to_string()))?;
            builder = builder
                .with_inter_threads(n)
                .map_err(|e| create_error(e.to_string()))?;
        }
        if opts.deterministic {
            builder = builder
                .with_deterministic_compute(true)
                .map_err(|e| create_error(e.to_string()))?;
        }
        if let Some(path) = &opts.optimized_model_path {
            builder = builder
                .with_optimized_model_path(path)
                .map_err(|e| create_error(e.to_string()))?;
        }
        if let Some(prefix) = &opts.profile_prefix {
            builder = builder
                .with_profiling(prefix)
                .map_err(|e| create_error(e.to_string()))?;
        }
        let inner = builder
            .commit_from_memory(model_bytes)
            .map_err(|e| create_error(e.to_string()))?;
        let inputs = inner.inputs().iter().map(io_info).collect();
        let outputs = inner.outputs().iter().map(io_info).collect();
        Ok(Session {
            name,
            inner,
            inputs,
            outputs,
        })
    }

    /// Ends profiling (see [`SessionOptions::profile_prefix`]) and returns the trace file.
    pub fn end_profiling(&mut self) -> Result<PathBuf> {
        self.inner
            .end_profiling()
            .map(PathBuf::from)
            .map_err(|e| RuntimeError::Run {
                graph: self.name.clone(),
                message: format!("ending profiling: {e}"),
            })
    }

    /// The graph name given at creation.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn inputs(&self) -> &[IoInfo] {
        &self.inputs
    }

    pub fn outputs(&self) -> &[IoInfo] {
        &self.outputs
    }

    /// Runs the graph. Every graph input must be fed exactly once; a feed that names no input,
    /// or one whose data does not match its shape, is an error that names the graph and input.
    /// The outputs borrow the session until dropped.
    pub fn run<'s>(&'s mut self, feeds: &Feeds<'_>) -> Result<Outputs<'s>> {
        let Session {
            name,
            inner,
            inputs,
            ..
        } = self;
        if let Some((input, message)) = feeds.errors.first() {
            return Err(RuntimeError::Feed {
                graph: name.clone(),
                input: input.clone(),
                message: message.clone(),
            });
        }
        let declared: HashSet<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
        let mut fed = HashSet::new();
        for (input, _) in &feeds.values {
            if !declared.contains(input.as_str()) {
                return Err(RuntimeError::UnknownInput {
                    graph: name.clone(),
                    input: input.clone(),
                    available: join_names(inputs.iter().map(|i| i.name.as_str())),
                });
            }
            if !fed.insert(input.as_str()) {
                return Err(RuntimeError::Feed {
                    graph: name.clone(),
                    input: input.clone(),
                    message: "fed more than once".to_string(),
                });
            }
        }
        if fed.len() != declared.len() {
            let missing = inputs
                .iter()
                .map(|i| i.name.as_str())
                .filter(|n| !fed.contains(n));
            return Err(RuntimeError::MissingInputs {
                graph: name.clone(),
                missing: join_names(missing),
            });
        }
        let values: Vec<(&str, SessionInputValue<'_>)> = feeds
            .values
            .iter()
            .map(|(n, v)| (n.as_str(), SessionInputValue::from(&**v)))
            .collect();
        let outputs = inner.run(values).map_err(|e| RuntimeError::Run {
            graph: name.clone(),
            message: e.to_string(),
        })?;
        Ok(Outputs {
            graph: name,
            inner: outputs,
        })
    }
}

pub(super) fn join_names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = names.collect();
    if v.is_empty() {
        "(none)".to_string()
    } else {
        v.join(", ")
    }
}
