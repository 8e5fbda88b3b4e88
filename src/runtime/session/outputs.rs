//! The outputs of a run, read by name as borrowed slices, owned host tensors or ORT-owned values.

use ort::value::DynValue;

use super::ort_session::join_names;
use super::value::{Value, dtype_of, value_to_tensor};
use crate::graph::{DType, Tensor};
use crate::runtime::error::{Result, RuntimeError};

/// A borrowed output: its shape and a slice over ONNX Runtime's buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputView<'a, T> {
    pub shape: Vec<usize>,
    pub data: &'a [T],
}

/// The outputs of one run. Borrowed reads ([`Outputs::f32`]...) do not copy.
pub struct Outputs<'s> {
    pub(super) graph: &'s str,
    pub(super) inner: ort::session::SessionOutputs<'s>,
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
