//! ONNX Runtime sessions over our graphs' ModelProto bytes.
//!
//! A [`Session`] is created once per graph (creation optimises the graph and costs 0.1-0.4 s,
//! DESIGN §7) under a name that every error repeats. Inputs are [`Feeds`]: borrowed views over
//! the caller's buffers, handed to ONNX Runtime without a copy. Outputs are read by name as
//! borrowed slices ([`Outputs::f32`]...), converted to owned [`Tensor`]s, or taken as ORT-owned
//! [`Value`]s that can be fed back into the next run without passing through host vectors.

use std::collections::HashSet;
use std::path::PathBuf;

use ort::session::SessionInputValue;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::{DynValue, DynValueTypeMarker, TensorElementType, TensorRef, ValueRef};

use super::error::{Result, RuntimeError};
use super::library::environment;
use super::params::ParamStore;
use crate::graph::{DType, Tensor, TensorData};

/// How much ONNX Runtime may rewrite the graph before running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptimizationLevel {
    Disable,
    Basic,
    Extended,
    /// Everything, including MatMul+Add -> Gemm and Transpose+MatMul -> FusedMatMul; measured to
    /// keep our backward graphs correct (DESIGN §7).
    #[default]
    All,
}

impl From<OptimizationLevel> for GraphOptimizationLevel {
    fn from(level: OptimizationLevel) -> Self {
        match level {
            OptimizationLevel::Disable => GraphOptimizationLevel::Disable,
            OptimizationLevel::Basic => GraphOptimizationLevel::Level1,
            OptimizationLevel::Extended => GraphOptimizationLevel::Level2,
            OptimizationLevel::All => GraphOptimizationLevel::All,
        }
    }
}

/// Session settings. `Default` gives ONNX Runtime's thread defaults, optimisation level All, the
/// CPU arena on and the memory pattern off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOptions {
    /// Threads inside one op; `None` lets ONNX Runtime choose (one per physical core).
    pub intra_threads: Option<usize>,
    /// Threads running independent ops in parallel; `None` runs ops sequentially.
    pub inter_threads: Option<usize>,
    pub optimization: OptimizationLevel,
    /// Ask kernels for deterministic algorithms where they have a choice.
    pub deterministic: bool,
    /// Write the graph as ONNX Runtime optimised it to this file (to inspect fusions in Netron).
    pub optimized_model_path: Option<PathBuf>,
    /// Profile every run; the JSON trace (named from this prefix) is written by
    /// [`Session::end_profiling`].
    pub profile_prefix: Option<PathBuf>,
    /// ONNX Runtime's CPU memory arena (a BFC arena that grows by powers of two and never
    /// returns memory). Off, intermediate tensors come from the system allocator.
    pub cpu_arena: bool,
    /// ONNX Runtime's memory pattern: after the first run, one block planned for all
    /// intermediates of a run at those input shapes. Off by default: with the arena on, that block
    /// comes on top of the arena chunks the first run already grew, which nearly doubles a
    /// training session's peak memory (config B of `embedlab bench`: 1,089 MB on, 606 MB off)
    /// for no measurable speed.
    pub memory_pattern: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            intra_threads: None,
            inter_threads: None,
            optimization: OptimizationLevel::All,
            deterministic: false,
            optimized_model_path: None,
            profile_prefix: None,
            cpu_arena: true,
            memory_pattern: false,
        }
    }
}

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

fn dtype_of(t: TensorElementType) -> Option<DType> {
    match t {
        TensorElementType::Float32 => Some(DType::F32),
        TensorElementType::Float64 => Some(DType::F64),
        TensorElementType::Int64 => Some(DType::I64),
        TensorElementType::Bool => Some(DType::Bool),
        _ => None,
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

fn join_names<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = names.collect();
    if v.is_empty() {
        "(none)".to_string()
    } else {
        v.join(", ")
    }
}

/// A borrowed view over a typed host buffer.
#[derive(Debug, Clone, Copy)]
pub enum TensorView<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
    I64(&'a [i64]),
    Bool(&'a [bool]),
}

/// The inputs of one run, by input name, each a borrowed view over the caller's buffer (no copy).
///
/// The adders chain; a malformed feed (data length not matching the shape) is recorded and
/// reported by [`Session::run`], where the graph's name is known.
#[derive(Default)]
pub struct Feeds<'a> {
    values: Vec<(String, ValueRef<'a, DynValueTypeMarker>)>,
    errors: Vec<(String, String)>,
}

impl<'a> Feeds<'a> {
    pub fn new() -> Feeds<'a> {
        Feeds::default()
    }

    fn push<T>(&mut self, name: String, shape: &[usize], data: &'a [T]) -> &mut Self
    where
        T: ort::value::PrimitiveTensorElementType + std::fmt::Debug + Clone + 'static,
    {
        let n: usize = shape.iter().product();
        if n != data.len() {
            self.errors.push((
                name,
                format!(
                    "shape {shape:?} holds {n} values but the buffer has {}",
                    data.len()
                ),
            ));
            return self;
        }
        match TensorRef::from_array_view((shape.to_vec(), data)) {
            Ok(t) => self.values.push((name, t.into_dyn())),
            Err(e) => self.errors.push((name, e.to_string())),
        }
        self
    }

    pub fn f32(&mut self, name: impl Into<String>, shape: &[usize], data: &'a [f32]) -> &mut Self {
        self.push(name.into(), shape, data)
    }
    pub fn f64(&mut self, name: impl Into<String>, shape: &[usize], data: &'a [f64]) -> &mut Self {
        self.push(name.into(), shape, data)
    }
    pub fn i64(&mut self, name: impl Into<String>, shape: &[usize], data: &'a [i64]) -> &mut Self {
        self.push(name.into(), shape, data)
    }
    pub fn bool(
        &mut self,
        name: impl Into<String>,
        shape: &[usize],
        data: &'a [bool],
    ) -> &mut Self {
        self.push(name.into(), shape, data)
    }

    pub fn view(
        &mut self,
        name: impl Into<String>,
        shape: &[usize],
        data: TensorView<'a>,
    ) -> &mut Self {
        match data {
            TensorView::F32(d) => self.f32(name, shape, d),
            TensorView::F64(d) => self.f64(name, shape, d),
            TensorView::I64(d) => self.i64(name, shape, d),
            TensorView::Bool(d) => self.bool(name, shape, d),
        }
    }

    /// A borrowed view over a host [`Tensor`].
    pub fn tensor(&mut self, name: impl Into<String>, t: &'a Tensor) -> &mut Self {
        match &t.data {
            TensorData::F32(d) => self.f32(name, &t.shape, d),
            TensorData::F64(d) => self.f64(name, &t.shape, d),
            TensorData::I64(d) => self.i64(name, &t.shape, d),
            TensorData::Bool(d) => self.bool(name, &t.shape, d),
        }
    }

    /// An ORT-owned value, e.g. an output of the previous step fed back as this step's input.
    pub fn value(&mut self, name: impl Into<String>, v: &'a Value) -> &mut Self {
        self.values.push((name.into(), v.0.view()));
        self
    }

    /// Every parameter of `store`, each fed under its own name.
    pub fn params(&mut self, store: &'a ParamStore) -> &mut Self {
        self.params_with(store, |n| Some(n.to_string()))
    }

    /// Parameters of `store` under the input name `rename` gives them; `None` skips one (e.g.
    /// parameters a graph does not use).
    pub fn params_with(
        &mut self,
        store: &'a ParamStore,
        mut rename: impl FnMut(&str) -> Option<String>,
    ) -> &mut Self {
        for p in store.iter() {
            if let Some(input) = rename(p.name) {
                self.f32(input, p.shape, p.data);
            }
        }
        self
    }

    /// Input names fed so far.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|(n, _)| n.as_str())
    }
}

/// A tensor owned by ONNX Runtime (typically a run's output), usable as a later run's input.
pub struct Value(DynValue);

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Value")
            .field("dtype", &self.dtype())
            .field("shape", &self.shape())
            .finish()
    }
}

impl Value {
    pub fn dtype(&self) -> Option<DType> {
        self.0.dtype().tensor_type().and_then(dtype_of)
    }
    pub fn shape(&self) -> Vec<usize> {
        self.0
            .dtype()
            .tensor_shape()
            .map(|s| s.iter().map(|&d| d.max(0) as usize).collect())
            .unwrap_or_default()
    }
    /// The data as a borrowed f32 slice; `None` for another dtype.
    pub fn as_f32(&self) -> Option<&[f32]> {
        self.0.try_extract_tensor::<f32>().ok().map(|(_, d)| d)
    }
    /// The data as a mutable f32 slice, for updating a fed-back tensor in place.
    pub fn as_f32_mut(&mut self) -> Option<&mut [f32]> {
        self.0.try_extract_tensor_mut::<f32>().ok().map(|(_, d)| d)
    }
    pub fn as_f64(&self) -> Option<&[f64]> {
        self.0.try_extract_tensor::<f64>().ok().map(|(_, d)| d)
    }
    pub fn as_i64(&self) -> Option<&[i64]> {
        self.0.try_extract_tensor::<i64>().ok().map(|(_, d)| d)
    }
    /// An owned host copy; `None` when the dtype is not one of ours.
    pub fn to_tensor(&self) -> Option<Tensor> {
        value_to_tensor(&self.0)
    }
}

fn value_to_tensor(v: &DynValue) -> Option<Tensor> {
    let dtype = v.dtype().tensor_type().and_then(dtype_of)?;
    let shape_of =
        |s: &ort::value::Shape| s.iter().map(|&d| d.max(0) as usize).collect::<Vec<usize>>();
    Some(match dtype {
        DType::F32 => v
            .try_extract_tensor::<f32>()
            .ok()
            .map(|(s, d)| Tensor::f32(shape_of(s), d.to_vec()))?,
        DType::F64 => v
            .try_extract_tensor::<f64>()
            .ok()
            .map(|(s, d)| Tensor::f64(shape_of(s), d.to_vec()))?,
        DType::I64 => v
            .try_extract_tensor::<i64>()
            .ok()
            .map(|(s, d)| Tensor::i64(shape_of(s), d.to_vec()))?,
        DType::Bool => v
            .try_extract_tensor::<bool>()
            .ok()
            .map(|(s, d)| Tensor::bool(shape_of(s), d.to_vec()))?,
    })
}

/// A borrowed output: its shape and a slice over ONNX Runtime's buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputView<'a, T> {
    pub shape: Vec<usize>,
    pub data: &'a [T],
}

/// The outputs of one run. Borrowed reads ([`Outputs::f32`]...) do not copy.
pub struct Outputs<'s> {
    graph: &'s str,
    inner: ort::session::SessionOutputs<'s>,
}

impl std::fmt::Debug for Outputs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outputs")
            .field("graph", &self.graph)
            .field("names", &self.names())
            .finish()
    }
}

impl<'s> Outputs<'s> {
    /// Output names, in the graph's order.
    pub fn names(&self) -> Vec<&str> {
        self.inner.keys().collect()
    }

    fn get(&self, output: &str) -> Result<&DynValue> {
        self.inner.get(output).ok_or_else(|| self.unknown(output))
    }

    fn unknown(&self, output: &str) -> RuntimeError {
        RuntimeError::UnknownOutput {
            graph: self.graph.to_string(),
            output: output.to_string(),
            available: join_names(self.inner.keys()),
        }
    }

    /// The output's element type.
    pub fn dtype(&self, output: &str) -> Result<DType> {
        let v = self.get(output)?;
        v.dtype()
            .tensor_type()
            .and_then(dtype_of)
            .ok_or_else(|| self.type_error(output, v, "a tensor of f32, f64, i64 or bool"))
    }

    fn type_error(&self, output: &str, v: &DynValue, expected: &str) -> RuntimeError {
        RuntimeError::OutputType {
            graph: self.graph.to_string(),
            output: output.to_string(),
            found: v.dtype().to_string(),
            expected: expected.to_string(),
        }
    }

    fn view<T: ort::value::PrimitiveTensorElementType>(
        &self,
        output: &str,
        expected: DType,
    ) -> Result<OutputView<'_, T>> {
        let v = self.get(output)?;
        let (shape, data) = v
            .try_extract_tensor::<T>()
            .map_err(|_| self.type_error(output, v, &format!("{expected} tensor")))?;
        Ok(OutputView {
            shape: shape.iter().map(|&d| d.max(0) as usize).collect(),
            data,
        })
    }

    pub fn f32(&self, output: &str) -> Result<OutputView<'_, f32>> {
        self.view(output, DType::F32)
    }
    pub fn f64(&self, output: &str) -> Result<OutputView<'_, f64>> {
        self.view(output, DType::F64)
    }
    pub fn i64(&self, output: &str) -> Result<OutputView<'_, i64>> {
        self.view(output, DType::I64)
    }
    pub fn bool(&self, output: &str) -> Result<OutputView<'_, bool>> {
        self.view(output, DType::Bool)
    }

    /// A scalar (or single-element) f32 or f64 output, as f64: losses and metrics.
    pub fn scalar(&self, output: &str) -> Result<f64> {
        let v = self.get(output)?;
        if let Ok((_, d)) = v.try_extract_tensor::<f32>()
            && d.len() == 1
        {
            return Ok(d[0] as f64);
        }
        if let Ok((_, d)) = v.try_extract_tensor::<f64>()
            && d.len() == 1
        {
            return Ok(d[0]);
        }
        Err(self.type_error(output, v, "a single f32 or f64 value"))
    }

    /// An owned host copy of one output.
    pub fn tensor(&self, output: &str) -> Result<Tensor> {
        let v = self.get(output)?;
        value_to_tensor(v)
            .ok_or_else(|| self.type_error(output, v, "a tensor of f32, f64, i64 or bool"))
    }

    /// Owned host copies of every output, in the graph's order.
    pub fn to_tensors(&self) -> Result<Vec<(String, Tensor)>> {
        self.names()
            .into_iter()
            .map(|n| Ok((n.to_string(), self.tensor(n)?)))
            .collect()
    }

    /// Takes one output out as an ORT-owned [`Value`] (no copy), to feed into a later run.
    pub fn take(&mut self, output: &str) -> Result<Value> {
        match self.inner.remove(output) {
            Some(v) => Ok(Value(v)),
            None => Err(self.unknown(output)),
        }
    }
}
