//! The op families. Each file declares its ops (`op_family!`) and holds, per op, the builder
//! method (shape and dtype rule), the ONNX emission and the vector-Jacobian rule.
mod elementwise;
mod erf;
mod family;
mod fused;
mod linalg;
mod nn;
mod shape;
mod source;

pub use elementwise::{ElementwiseKind, ElementwiseOp};
pub use fused::{FusedKind, FusedOp};
pub use linalg::{LinalgKind, LinalgOp};
pub use nn::{NnKind, NnOp};
pub use shape::{ShapeKind, ShapeOp};
pub use source::{SourceKind, SourceOp};
