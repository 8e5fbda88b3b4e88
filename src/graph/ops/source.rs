//! Source ops, the nodes without inputs: graph inputs, anonymous constants and named
//! initializers. Builder, ONNX emission and (absent) vector-Jacobian rule side by side.

use super::family::op_family;
use crate::graph::error::{GraphError, Result};
use crate::graph::export::Emitter;
use crate::graph::ir::{Graph, Node, ValueId};
use crate::graph::op::Op;
use crate::graph::{DType, Tensor};

op_family! {
    /// Nodes without inputs.
    pub enum SourceOp / SourceKind {
        /// A graph input (fed at run time).
        Input { name: String },
        /// An anonymous constant (exported as an initializer).
        Constant { value: Tensor },
        /// A named constant, e.g. a trained parameter baked into an exported model.
        Initializer { name: String, value: Tensor },
    }
}

impl SourceKind {
    /// None: a source has no inputs to differentiate with respect to.
    pub fn differentiable(self) -> bool {
        match self {
            SourceKind::Input | SourceKind::Constant | SourceKind::Initializer => false,
        }
    }
}

impl Graph {
    /// A graph input (fed at run time): a batch tensor, or a parameter of a training graph.
    /// Input names are global (not scoped) and must be unique.
    pub fn input(&mut self, name: &str, dtype: DType, shape: &[usize]) -> Result<ValueId> {
        let op = SourceOp::Input {
            name: name.to_string(),
        };
        let v = self.push_global(name, op, dtype, shape.to_vec())?;
        self.inputs.push(v);
        Ok(v)
    }

    /// A named constant (exported as an initializer under exactly this name).
    pub fn initializer(&mut self, name: &str, value: Tensor) -> Result<ValueId> {
        let (dtype, shape) = (value.dtype(), value.shape.clone());
        let op = SourceOp::Initializer {
            name: name.to_string(),
            value,
        };
        self.push_global(name, op, dtype, shape)
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
            let Op::Source(SourceOp::Input { name }) = &node.op else {
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
            node.op = SourceOp::Initializer {
                name: name.clone(),
                value: t,
            }
            .into();
            baked.push(v);
        }
        self.inputs.retain(|v| !baked.contains(v));
        Ok(baked.len())
    }

    /// An anonymous constant.
    pub fn constant(&mut self, value: Tensor) -> ValueId {
        let (dtype, shape) = (value.dtype(), value.shape.clone());
        self.push1("const", SourceOp::Constant { value }, vec![], dtype, shape)
    }

    /// A rank-0 constant of `dtype`.
    pub fn scalar(&mut self, dtype: DType, v: f64) -> ValueId {
        self.constant(Tensor::scalar(dtype, v))
    }
}

impl SourceOp {
    /// No gradient flows into a node without inputs: one (empty) entry per input.
    pub(crate) fn vjp(
        &self,
        _g: &mut Graph,
        node: &Node,
        _gout: &[Option<ValueId>],
        _needs: &[bool],
    ) -> Result<Vec<Option<ValueId>>> {
        match self {
            SourceOp::Input { .. } | SourceOp::Constant { .. } | SourceOp::Initializer { .. } => {
                Ok(vec![None; node.inputs.len()])
            }
        }
    }

    /// Inputs are declared by the exporter, not emitted as nodes; constants become initializers,
    /// or, under symbolic axes, an Expand of their (single) value to the run-time shape.
    pub(crate) fn emit(&self, e: &mut Emitter, node: &Node) {
        match self {
            SourceOp::Input { .. } => {}
            SourceOp::Constant { value } => match e.symbolic_dims(node.outputs[0]) {
                Some(dims) => {
                    // `dynamic::infer` admits only constants whose elements are all equal here.
                    let n = &node.name;
                    let outs = e.output_names(node);
                    let first = value.to_f64_vec().first().copied().unwrap_or(0.0);
                    let scalar = e.const_scalar(n, value.dtype(), first);
                    let shape = e.shape_tensor(n, &dims);
                    e.node("Expand", n, vec![scalar, shape], outs, vec![]);
                }
                None => e.initializer(node, value),
            },
            SourceOp::Initializer { value, .. } => e.initializer(node, value),
        }
    }
}
