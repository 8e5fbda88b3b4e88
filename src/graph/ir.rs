//! The IR: a graph of nodes in topological order (the builder only appends, so creation order is a
//! topological order), values with static shapes and dtypes, and hierarchical node names.

use super::error::{GraphError, Result};
use super::{DType, Tensor};
use std::collections::HashMap;

/// A value produced by a node (one of its outputs). Cheap to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueId(pub(crate) usize);

/// What the graph knows about a value.
#[derive(Debug, Clone)]
pub struct ValueInfo {
    pub dtype: DType,
    pub shape: Vec<usize>,
    /// Index of the producing node in `Graph::nodes`.
    pub node: usize,
}

/// The operations of the IR. Axes are resolved to non-negative indices when the node is built.
/// Each op's contract (shapes, dtypes, semantics) is documented on its builder method.
#[derive(Debug, Clone)]
pub enum Op {
    Input {
        name: String,
    },
    /// An anonymous constant (exported as an initializer).
    Constant {
        value: Tensor,
    },
    /// A named constant, e.g. a trained parameter baked into an exported model.
    Initializer {
        name: String,
        value: Tensor,
    },
    Identity,
    Add,
    Sub,
    Mul,
    Div,
    Neg,
    Exp,
    Log,
    Sqrt,
    Tanh,
    Relu,
    Erf,
    Gelu,
    Where,
    Equal,
    Greater,
    Cast {
        to: DType,
    },
    Dropout {
        ratio: f64,
        seed: i64,
    },
    Reshape {
        shape: Vec<usize>,
    },
    Transpose {
        perm: Vec<usize>,
    },
    Expand {
        shape: Vec<usize>,
    },
    Concat {
        axis: usize,
    },
    Split {
        axis: usize,
        sizes: Vec<usize>,
    },
    Slice {
        axis: usize,
        start: usize,
        end: usize,
    },
    Pad {
        axis: usize,
        before: usize,
        after: usize,
    },
    Gather {
        axis: usize,
    },
    ScatterAdd {
        axis: usize,
    },
    MatMul,
    ReduceSum {
        axes: Vec<usize>,
        keepdims: bool,
    },
    ReduceMean {
        axes: Vec<usize>,
        keepdims: bool,
    },
    Softmax {
        axis: usize,
    },
    LogSoftmax {
        axis: usize,
    },
    LayerNorm {
        eps: f64,
    },
    SoftmaxCrossEntropy {
        ignore_index: i64,
    },
}

impl Op {
    /// The op's name as it appears in errors and in the list of differentiable ops.
    pub fn kind(&self) -> &'static str {
        match self {
            Op::Input { .. } => "Input",
            Op::Constant { .. } => "Constant",
            Op::Initializer { .. } => "Initializer",
            Op::Identity => "Identity",
            Op::Add => "Add",
            Op::Sub => "Sub",
            Op::Mul => "Mul",
            Op::Div => "Div",
            Op::Neg => "Neg",
            Op::Exp => "Exp",
            Op::Log => "Log",
            Op::Sqrt => "Sqrt",
            Op::Tanh => "Tanh",
            Op::Relu => "Relu",
            Op::Erf => "Erf",
            Op::Gelu => "Gelu",
            Op::Where => "Where",
            Op::Equal => "Equal",
            Op::Greater => "Greater",
            Op::Cast { .. } => "Cast",
            Op::Dropout { .. } => "Dropout",
            Op::Reshape { .. } => "Reshape",
            Op::Transpose { .. } => "Transpose",
            Op::Expand { .. } => "Expand",
            Op::Concat { .. } => "Concat",
            Op::Split { .. } => "Split",
            Op::Slice { .. } => "Slice",
            Op::Pad { .. } => "Pad",
            Op::Gather { .. } => "Gather",
            Op::ScatterAdd { .. } => "ScatterAdd",
            Op::MatMul => "MatMul",
            Op::ReduceSum { .. } => "ReduceSum",
            Op::ReduceMean { .. } => "ReduceMean",
            Op::Softmax { .. } => "Softmax",
            Op::LogSoftmax { .. } => "LogSoftmax",
            Op::LayerNorm { .. } => "LayerNorm",
            Op::SoftmaxCrossEntropy { .. } => "SoftmaxCrossEntropy",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Node {
    /// Hierarchical, unique name (`encoder.layer1.attn.q`), carried into the ONNX node name.
    pub name: String,
    pub op: Op,
    pub inputs: Vec<ValueId>,
    pub outputs: Vec<ValueId>,
}

/// A graph under construction. Builder methods (one per op, in `graph::ops`) append nodes and
/// return the new values; shape and dtype rules are checked as nodes are added.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub name: String,
    pub nodes: Vec<Node>,
    pub values: Vec<ValueInfo>,
    pub inputs: Vec<ValueId>,
    pub outputs: Vec<(String, ValueId)>,
    scope: Vec<String>,
    name_counts: HashMap<String, usize>,
}

impl Graph {
    pub fn new(name: impl Into<String>) -> Graph {
        Graph {
            name: name.into(),
            ..Default::default()
        }
    }

    pub fn info(&self, v: ValueId) -> &ValueInfo {
        &self.values[v.0]
    }
    pub fn shape(&self, v: ValueId) -> &[usize] {
        &self.values[v.0].shape
    }
    pub fn dtype(&self, v: ValueId) -> DType {
        self.values[v.0].dtype
    }
    /// The node that produced `v`.
    pub fn producer(&self, v: ValueId) -> &Node {
        &self.nodes[self.values[v.0].node]
    }

    /// Runs `f` with `name` pushed onto the naming scope: nodes built inside are named
    /// `outer.name.op`. Scopes become the ONNX names, so ONNX Runtime errors point at our code.
    pub fn scoped<T>(&mut self, name: &str, f: impl FnOnce(&mut Graph) -> T) -> T {
        self.scope.push(name.to_string());
        let out = f(self);
        self.scope.pop();
        out
    }

    /// Enters a naming scope; pair with [`Graph::pop_scope`]. Prefer [`Graph::scoped`].
    pub fn push_scope(&mut self, name: &str) {
        self.scope.push(name.to_string());
    }
    pub fn pop_scope(&mut self) {
        self.scope.pop();
    }

    /// The current scope joined with dots (empty at top level).
    pub fn scope_path(&self) -> String {
        self.scope.join(".")
    }

    /// A unique node name in the current scope.
    pub(crate) fn fresh_name(&mut self, base: &str) -> String {
        let full = if self.scope.is_empty() {
            base.to_string()
        } else {
            format!("{}.{}", self.scope.join("."), base)
        };
        let n = self.name_counts.entry(full.clone()).or_insert(0);
        *n += 1;
        if *n == 1 {
            full
        } else {
            format!("{full}_{}", *n - 1)
        }
    }

    /// Appends a node with the given output (dtype, shape) pairs; returns its outputs.
    pub(crate) fn push(
        &mut self,
        base: &str,
        op: Op,
        inputs: Vec<ValueId>,
        outs: Vec<(DType, Vec<usize>)>,
    ) -> Vec<ValueId> {
        let name = self.fresh_name(base);
        let node = self.nodes.len();
        let outputs: Vec<ValueId> = outs
            .into_iter()
            .map(|(dtype, shape)| {
                self.values.push(ValueInfo { dtype, shape, node });
                ValueId(self.values.len() - 1)
            })
            .collect();
        self.nodes.push(Node {
            name,
            op,
            inputs,
            outputs: outputs.clone(),
        });
        outputs
    }

    pub(crate) fn push1(
        &mut self,
        base: &str,
        op: Op,
        inputs: Vec<ValueId>,
        dtype: DType,
        shape: Vec<usize>,
    ) -> ValueId {
        self.push(base, op, inputs, vec![(dtype, shape)])[0]
    }

    /// Name of the node currently being built for error messages (scope + op).
    pub(crate) fn here(&self, op: &str) -> String {
        if self.scope.is_empty() {
            op.to_string()
        } else {
            format!("{}.{}", self.scope.join("."), op)
        }
    }

    /// A graph input (fed at run time): a batch tensor, or a parameter of a training graph.
    /// Input names are global (not scoped) and must be unique.
    pub fn input(&mut self, name: &str, dtype: DType, shape: &[usize]) -> Result<ValueId> {
        if self.name_counts.contains_key(name) {
            return Err(GraphError::DuplicateName(name.to_string()));
        }
        self.name_counts.insert(name.to_string(), 1);
        let node = self.nodes.len();
        self.values.push(ValueInfo {
            dtype,
            shape: shape.to_vec(),
            node,
        });
        let v = ValueId(self.values.len() - 1);
        self.nodes.push(Node {
            name: name.to_string(),
            op: Op::Input {
                name: name.to_string(),
            },
            inputs: vec![],
            outputs: vec![v],
        });
        self.inputs.push(v);
        Ok(v)
    }

    /// A named constant (exported as an initializer under exactly this name).
    pub fn initializer(&mut self, name: &str, value: Tensor) -> Result<ValueId> {
        if self.name_counts.contains_key(name) {
            return Err(GraphError::DuplicateName(name.to_string()));
        }
        self.name_counts.insert(name.to_string(), 1);
        let (dtype, shape) = (value.dtype(), value.shape.clone());
        let node = self.nodes.len();
        self.values.push(ValueInfo { dtype, shape, node });
        let v = ValueId(self.values.len() - 1);
        self.nodes.push(Node {
            name: name.to_string(),
            op: Op::Initializer {
                name: name.to_string(),
                value,
            },
            inputs: vec![],
            outputs: vec![v],
        });
        Ok(v)
    }

    /// Turns the inputs for which `value` returns a tensor into named initializers holding it
    /// (e.g. the trained parameters of an inference graph), so that ONNX Runtime can treat them
    /// as constants: it prepacks constant matmul weights once instead of on every run. Returns
    /// how many inputs were baked. A tensor whose dtype or shape differs from the input's is an
    /// error naming the input.
    pub fn bake_inputs(&mut self, mut value: impl FnMut(&str) -> Option<Tensor>) -> Result<usize> {
        let mut baked = Vec::new();
        for &v in &self.inputs {
            let node = &mut self.nodes[self.values[v.0].node];
            let Op::Input { name } = &node.op else {
                continue;
            };
            let Some(t) = value(name) else { continue };
            let info = &self.values[v.0];
            if t.dtype() != info.dtype || t.shape != info.shape {
                return Err(GraphError::Shape {
                    op: "bake_inputs",
                    node: name.clone(),
                    message: format!(
                        "value is {} {:?}, the input {} {:?}",
                        t.dtype(),
                        t.shape,
                        info.dtype,
                        info.shape
                    ),
                });
            }
            node.op = Op::Initializer {
                name: name.clone(),
                value: t,
            };
            baked.push(v);
        }
        self.inputs.retain(|v| !baked.contains(v));
        Ok(baked.len())
    }

    /// An anonymous constant.
    pub fn constant(&mut self, value: Tensor) -> ValueId {
        let (dtype, shape) = (value.dtype(), value.shape.clone());
        self.push1("const", Op::Constant { value }, vec![], dtype, shape)
    }

    /// A rank-0 constant of `dtype`.
    pub fn scalar(&mut self, dtype: DType, v: f64) -> ValueId {
        self.constant(Tensor::scalar(dtype, v))
    }

    /// Declares `v` a graph output under `name`.
    pub fn output(&mut self, name: &str, v: ValueId) -> Result<()> {
        if self.outputs.iter().any(|(n, _)| n == name)
            || self.inputs.iter().any(|&i| self.producer(i).name == name)
        {
            return Err(GraphError::DuplicateName(name.to_string()));
        }
        self.outputs.push((name.to_string(), v));
        Ok(())
    }

    /// Resolves a possibly negative axis against `rank`.
    pub(crate) fn axis(&self, op: &'static str, axis: i64, rank: usize) -> Result<usize> {
        let a = if axis < 0 { axis + rank as i64 } else { axis };
        if a < 0 || a >= rank as i64 {
            return Err(GraphError::Shape {
                op,
                node: self.here(op),
                message: format!("axis {axis} out of range for rank {rank}"),
            });
        }
        Ok(a as usize)
    }

    /// Number of elements of `v`.
    pub fn numel(&self, v: ValueId) -> usize {
        self.shape(v).iter().product()
    }
}
