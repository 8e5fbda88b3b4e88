//! The inputs of a run: borrowed views over the caller's buffers (host tensors, parameters) or
//! ORT-owned values, by input name.

use ort::value::{DynValueTypeMarker, TensorRef, ValueRef};

use super::value::Value;
use crate::graph::{Tensor, TensorData};
use crate::runtime::params::ParamStore;

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
    pub(super) values: Vec<(String, ValueRef<'a, DynValueTypeMarker>)>,
    /// (input, message) of each malformed feed.
    pub(super) errors: Vec<(String, String)>,
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
