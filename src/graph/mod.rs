//! Our own graph IR, its ops (forward shape rule, ONNX emission and vector-Jacobian rule side by
//! side), reverse-mode autodiff and export to ONNX ModelProto bytes. Pure: no ort, no files.
mod autodiff;
pub mod dynamic;
mod error;
pub mod export;
mod ir;
pub mod onnx_pb;
mod op;
mod ops;
mod tensor;

pub use autodiff::{backward, backward_or_zeros};
pub use error::{GraphError, Result};
pub use export::{to_model, to_model_dynamic, to_onnx_bytes};
pub use ir::{Graph, Node, ValueId, ValueInfo};
pub use op::{Op, OpKind};
pub use ops::{
    ElementwiseKind, ElementwiseOp, FusedKind, FusedOp, LinalgKind, LinalgOp, NnKind, NnOp,
    ShapeKind, ShapeOp, SourceKind, SourceOp,
};
pub use tensor::{DType, Tensor, TensorData};
