//! Our own graph IR, its ops (forward shape rule, ONNX emission and vector-Jacobian rule side by
//! side), reverse-mode autodiff and export to ONNX ModelProto bytes. Pure: no ort, no files.
mod tensor;
pub use tensor::{DType, Tensor, TensorData};
pub mod onnx_pb;
