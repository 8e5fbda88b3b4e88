//! Values owned by ONNX Runtime and their conversion to our dtypes and host [`Tensor`]s.

use ort::value::{DynValue, TensorElementType};

use crate::graph::{DType, Tensor};

/// A tensor owned by ONNX Runtime (typically a run's output), usable as a later run's input.
pub struct Value(pub(super) DynValue);

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

pub(super) fn value_to_tensor(v: &DynValue) -> Option<Tensor> {
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

pub(super) fn dtype_of(t: TensorElementType) -> Option<DType> {
    match t {
        TensorElementType::Float32 => Some(DType::F32),
        TensorElementType::Float64 => Some(DType::F64),
        TensorElementType::Int64 => Some(DType::I64),
        TensorElementType::Bool => Some(DType::Bool),
        _ => None,
    }
}
