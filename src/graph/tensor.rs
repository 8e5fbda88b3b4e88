//! Host tensors: a dtype, a static shape and a contiguous row-major buffer.
//!
//! Used for constants inside graphs, for feeding and reading ONNX Runtime, and for checkpoints.

use serde::{Deserialize, Serialize};

/// Element types the IR knows. Values match ONNX `TensorProto.DataType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DType {
    F32,
    F64,
    I64,
    Bool,
}

impl DType {
    /// The ONNX `TensorProto.DataType` code.
    pub fn onnx_code(self) -> i32 {
        match self {
            DType::F32 => 1,
            DType::I64 => 7,
            DType::Bool => 9,
            DType::F64 => 11,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, DType::F32 | DType::F64)
    }

    pub fn name(self) -> &'static str {
        match self {
            DType::F32 => "f32",
            DType::F64 => "f64",
            DType::I64 => "i64",
            DType::Bool => "bool",
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A tensor's contiguous data.
#[derive(Debug, Clone, PartialEq)]
pub enum TensorData {
    F32(Vec<f32>),
    F64(Vec<f64>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
}

/// A host tensor. `data.len()` always equals the product of `shape`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: TensorData,
}

impl Tensor {
    fn checked(shape: Vec<usize>, data: TensorData, len: usize) -> Tensor {
        assert_eq!(
            shape.iter().product::<usize>(),
            len,
            "tensor data length does not match shape {shape:?}"
        );
        Tensor { shape, data }
    }
    pub fn f32(shape: impl Into<Vec<usize>>, data: Vec<f32>) -> Tensor {
        let n = data.len();
        Tensor::checked(shape.into(), TensorData::F32(data), n)
    }
    pub fn f64(shape: impl Into<Vec<usize>>, data: Vec<f64>) -> Tensor {
        let n = data.len();
        Tensor::checked(shape.into(), TensorData::F64(data), n)
    }
    pub fn i64(shape: impl Into<Vec<usize>>, data: Vec<i64>) -> Tensor {
        let n = data.len();
        Tensor::checked(shape.into(), TensorData::I64(data), n)
    }
    pub fn bool(shape: impl Into<Vec<usize>>, data: Vec<bool>) -> Tensor {
        let n = data.len();
        Tensor::checked(shape.into(), TensorData::Bool(data), n)
    }
    /// A scalar (rank 0) of a float dtype.
    pub fn scalar(dtype: DType, v: f64) -> Tensor {
        match dtype {
            DType::F32 => Tensor::f32(vec![], vec![v as f32]),
            DType::F64 => Tensor::f64(vec![], vec![v]),
            DType::I64 => Tensor::i64(vec![], vec![v as i64]),
            DType::Bool => Tensor::bool(vec![], vec![v != 0.0]),
        }
    }
    pub fn dtype(&self) -> DType {
        match &self.data {
            TensorData::F32(_) => DType::F32,
            TensorData::F64(_) => DType::F64,
            TensorData::I64(_) => DType::I64,
            TensorData::Bool(_) => DType::Bool,
        }
    }
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.data {
            TensorData::F32(v) => Some(v),
            _ => None,
        }
    }
    pub fn as_f64(&self) -> Option<&[f64]> {
        match &self.data {
            TensorData::F64(v) => Some(v),
            _ => None,
        }
    }
    pub fn as_i64(&self) -> Option<&[i64]> {
        match &self.data {
            TensorData::I64(v) => Some(v),
            _ => None,
        }
    }
    /// The values as f64, whatever the float or integer dtype (bool as 0/1).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match &self.data {
            TensorData::F32(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::F64(v) => v.clone(),
            TensorData::I64(v) => v.iter().map(|&x| x as f64).collect(),
            TensorData::Bool(v) => v.iter().map(|&x| x as u8 as f64).collect(),
        }
    }
}
