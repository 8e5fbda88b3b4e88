//! The op families. Each file holds, per op, the builder method (shape and dtype rule), the ONNX
//! emission and the vector-Jacobian rule.
pub(crate) mod elementwise;
pub(crate) mod linalg;
pub(crate) mod nn;
pub(crate) mod shape;

use super::error::Result;
use super::ir::{Graph, Node, Op, ValueId};

/// Every op that has a vector-Jacobian rule. A test checks each against finite differences.
pub const DIFFERENTIABLE_OPS: &[&str] = &[
    "Identity",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Neg",
    "Exp",
    "Log",
    "Sqrt",
    "Tanh",
    "Relu",
    "Erf",
    "Gelu",
    "Where",
    "Cast",
    "Dropout",
    "Reshape",
    "Transpose",
    "Expand",
    "Concat",
    "Split",
    "Slice",
    "Pad",
    "Gather",
    "MatMul",
    "ReduceSum",
    "ReduceMean",
    "Softmax",
    "LogSoftmax",
    "LayerNorm",
    "SoftmaxCrossEntropy",
];

/// Dispatches to the op family's vector-Jacobian rule.
pub(crate) fn vjp(
    g: &mut Graph,
    node: &Node,
    gout: &[Option<ValueId>],
    needs: &[bool],
) -> Result<Vec<Option<ValueId>>> {
    match &node.op {
        Op::Identity
        | Op::Add
        | Op::Sub
        | Op::Mul
        | Op::Div
        | Op::Neg
        | Op::Exp
        | Op::Log
        | Op::Sqrt
        | Op::Tanh
        | Op::Relu
        | Op::Erf
        | Op::Gelu
        | Op::Where
        | Op::Cast { .. }
        | Op::Dropout { .. }
        | Op::Equal
        | Op::Greater => elementwise::vjp(g, node, gout, needs),
        Op::Reshape { .. }
        | Op::Transpose { .. }
        | Op::Expand { .. }
        | Op::Concat { .. }
        | Op::Split { .. }
        | Op::Slice { .. }
        | Op::Pad { .. }
        | Op::Gather { .. }
        | Op::ScatterAdd { .. } => shape::vjp(g, node, gout, needs),
        Op::MatMul | Op::ReduceSum { .. } | Op::ReduceMean { .. } => {
            linalg::vjp(g, node, gout, needs)
        }
        Op::Softmax { .. }
        | Op::LogSoftmax { .. }
        | Op::LayerNorm { .. }
        | Op::SoftmaxCrossEntropy { .. } => nn::vjp(g, node, gout, needs),
        Op::Input { .. } | Op::Constant { .. } | Op::Initializer { .. } => Ok(vec![]),
    }
}

/// Dispatches to the op family's ONNX emission.
pub(crate) fn emit(e: &mut super::export::Emitter, node: &Node) {
    match &node.op {
        Op::Reshape { .. }
        | Op::Transpose { .. }
        | Op::Expand { .. }
        | Op::Concat { .. }
        | Op::Split { .. }
        | Op::Slice { .. }
        | Op::Pad { .. }
        | Op::Gather { .. }
        | Op::ScatterAdd { .. } => shape::emit(e, node),
        Op::MatMul | Op::ReduceSum { .. } | Op::ReduceMean { .. } => linalg::emit(e, node),
        Op::Softmax { .. }
        | Op::LogSoftmax { .. }
        | Op::LayerNorm { .. }
        | Op::SoftmaxCrossEntropy { .. } => nn::emit(e, node),
        Op::Input { .. } | Op::Constant { .. } | Op::Initializer { .. } => {}
        _ => elementwise::emit(e, node),
    }
}
