//! The parameter store: named f32 tensors in insertion order, kept in one contiguous buffer.
//!
//! Names are hierarchical (`encoder.layer0.attn.q.weight`) and are the same strings the graphs use
//! for their parameter inputs and the checkpoints use as keys. One contiguous buffer means a
//! whole-model pass (the fused optimizer update, the checksum, a copy) is one loop over memory,
//! while each parameter is still a contiguous slice that can be fed to ONNX Runtime as a
//! borrowed view.
//!
//! [`OptState`] keeps per-parameter optimizer buffers (AdamW's `m` and `v`, SGD's momentum) as
//! further stores with the same layout, plus the step count.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::error::{Result, RuntimeError};
use crate::graph::Tensor;

#[derive(Debug, Clone, PartialEq)]
struct Entry {
    name: String,
    shape: Vec<usize>,
    offset: usize,
    len: usize,
}

/// One parameter, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamRef<'a> {
    pub name: &'a str,
    pub shape: &'a [usize],
    pub data: &'a [f32],
}

/// One parameter, its data mutable.
#[derive(Debug, PartialEq)]
pub struct ParamMut<'a> {
    pub name: &'a str,
    pub shape: &'a [usize],
    pub data: &'a mut [f32],
}

/// Named, ordered f32 tensors in one contiguous buffer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParamStore {
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
    data: Vec<f32>,
}

/// A name must be non-empty and free of `/` (the checkpoint format uses `/` to separate an
/// optimizer slot from a parameter name) and of whitespace.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty() || name.contains('/') || name.chars().any(char::is_whitespace) {
        return Err(RuntimeError::param(
            name,
            "a parameter name must be non-empty, without '/' or whitespace",
        ));
    }
    Ok(())
}

impl ParamStore {
    pub fn new() -> ParamStore {
        ParamStore::default()
    }

    /// Appends a parameter. Errors on a duplicate or invalid name, or data not matching the shape.
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        shape: &[usize],
        values: &[f32],
    ) -> Result<()> {
        let name = name.into();
        check_name(&name)?;
        let len: usize = shape.iter().product();
        if len != values.len() {
            return Err(RuntimeError::param(
                name,
                format!(
                    "shape {shape:?} holds {len} values but {} were given",
                    values.len()
                ),
            ));
        }
        if self.index.contains_key(&name) {
            return Err(RuntimeError::param(name, "already in the store"));
        }
        self.index.insert(name.clone(), self.entries.len());
        self.entries.push(Entry {
            name,
            shape: shape.to_vec(),
            offset: self.data.len(),
            len,
        });
        self.data.extend_from_slice(values);
        Ok(())
    }

    /// Appends a zero-filled parameter.
    pub fn insert_zeros(&mut self, name: impl Into<String>, shape: &[usize]) -> Result<()> {
        let len: usize = shape.iter().product();
        self.insert(name, shape, &vec![0.0; len])
    }

    /// A store with the same names and shapes, all zero: optimizer buffers.
    pub fn zeros_like(&self) -> ParamStore {
        ParamStore {
            entries: self.entries.clone(),
            index: self.index.clone(),
            data: vec![0.0; self.data.len()],
        }
    }

    /// Whether `other` has the same names, order and shapes.
    pub fn same_layout(&self, other: &ParamStore) -> bool {
        self.entries.len() == other.entries.len()
            && self
                .entries
                .iter()
                .zip(&other.entries)
                .all(|(a, b)| a.name == b.name && a.shape == b.shape)
    }

    /// Number of parameters (tensors).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total number of scalar values over all parameters.
    pub fn num_values(&self) -> usize {
        self.data.len()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// Position of a parameter in the store's order.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.position(name)
            .map(|i| self.entries[i].shape.as_slice())
    }

    pub fn get(&self, name: &str) -> Option<&[f32]> {
        self.position(name).map(|i| {
            let e = &self.entries[i];
            &self.data[e.offset..e.offset + e.len]
        })
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut [f32]> {
        let i = self.position(name)?;
        let e = &self.entries[i];
        Some(&mut self.data[e.offset..e.offset + e.len])
    }

    /// Like [`get`](Self::get) but a typed error naming the parameter.
    pub fn param(&self, name: &str) -> Result<ParamRef<'_>> {
        let i = self
            .position(name)
            .ok_or_else(|| RuntimeError::UnknownParam {
                name: name.to_string(),
            })?;
        Ok(self.at(i))
    }

    /// The parameter at position `i` of the store's order. Panics when out of range.
    pub fn at(&self, i: usize) -> ParamRef<'_> {
        let e = &self.entries[i];
        ParamRef {
            name: &e.name,
            shape: &e.shape,
            data: &self.data[e.offset..e.offset + e.len],
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = ParamRef<'_>> {
        self.entries.iter().map(|e| ParamRef {
            name: &e.name,
            shape: &e.shape,
            data: &self.data[e.offset..e.offset + e.len],
        })
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = ParamMut<'_>> {
        let mut rest: &mut [f32] = &mut self.data;
        self.entries.iter().map(move |e| {
            let (head, tail) = std::mem::take(&mut rest).split_at_mut(e.len);
            rest = tail;
            ParamMut {
                name: &e.name,
                shape: &e.shape,
                data: head,
            }
        })
    }

    /// The whole contiguous buffer, parameters in store order.
    pub fn as_slice(&self) -> &[f32] {
        &self.data
    }

    pub fn as_mut_slice(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Overwrites one parameter's values; the length must match.
    pub fn set(&mut self, name: &str, values: &[f32]) -> Result<()> {
        let dst = self
            .get_mut(name)
            .ok_or_else(|| RuntimeError::UnknownParam {
                name: name.to_string(),
            })?;
        if dst.len() != values.len() {
            let n = dst.len();
            return Err(RuntimeError::param(
                name,
                format!("holds {n} values, {} were given", values.len()),
            ));
        }
        dst.copy_from_slice(values);
        Ok(())
    }

    /// An owned host tensor copy of one parameter.
    pub fn to_tensor(&self, name: &str) -> Option<Tensor> {
        let p = self.param(name).ok()?;
        Some(Tensor::f32(p.shape.to_vec(), p.data.to_vec()))
    }

    /// sha256 (hex) over every parameter's name, shape and little-endian bytes, in store order:
    /// equal checksums mean bit-identical stores.
    pub fn checksum(&self) -> String {
        let mut h = Sha256::new();
        for p in self.iter() {
            h.update((p.name.len() as u64).to_le_bytes());
            h.update(p.name.as_bytes());
            h.update((p.shape.len() as u64).to_le_bytes());
            for &d in p.shape {
                h.update((d as u64).to_le_bytes());
            }
            for &x in p.data {
                h.update(x.to_le_bytes());
            }
        }
        hex::encode(h.finalize())
    }
}

/// Optimizer state: named slots (e.g. `m`, `v`), each a store with the parameters' layout, and
/// the number of steps taken.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OptState {
    pub step: u64,
    slots: Vec<(String, ParamStore)>,
}

impl OptState {
    /// Zero-filled slots shaped like `params`.
    pub fn new(params: &ParamStore, slot_names: &[&str]) -> OptState {
        OptState {
            step: 0,
            slots: slot_names
                .iter()
                .map(|s| (s.to_string(), params.zeros_like()))
                .collect(),
        }
    }

    /// The state AdamW needs: slots `m` and `v`.
    pub fn adamw(params: &ParamStore) -> OptState {
        OptState::new(params, &["m", "v"])
    }

    /// The state SGD with momentum needs: slot `momentum`.
    pub fn sgd_momentum(params: &ParamStore) -> OptState {
        OptState::new(params, &["momentum"])
    }

    /// Adds a slot (used when loading a checkpoint). Errors on a duplicate slot name.
    pub fn insert_slot(&mut self, name: impl Into<String>, store: ParamStore) -> Result<()> {
        let name = name.into();
        if self.slot(&name).is_some() {
            return Err(RuntimeError::param(name, "optimizer slot already present"));
        }
        self.slots.push((name, store));
        Ok(())
    }

    pub fn slot_names(&self) -> impl Iterator<Item = &str> {
        self.slots.iter().map(|(n, _)| n.as_str())
    }

    pub fn slot(&self, name: &str) -> Option<&ParamStore> {
        self.slots.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }

    pub fn slot_mut(&mut self, name: &str) -> Option<&mut ParamStore> {
        self.slots
            .iter_mut()
            .find(|(n, _)| n == name)
            .map(|(_, s)| s)
    }

    /// Two distinct slots, both mutable (AdamW's `m` and `v`).
    pub fn slot_pair_mut(
        &mut self,
        a: &str,
        b: &str,
    ) -> Option<(&mut ParamStore, &mut ParamStore)> {
        let ia = self.slots.iter().position(|(n, _)| n == a)?;
        let ib = self.slots.iter().position(|(n, _)| n == b)?;
        if ia == ib {
            return None;
        }
        let (lo, hi) = (ia.min(ib), ia.max(ib));
        let (left, right) = self.slots.split_at_mut(hi);
        let (x, y) = (&mut left[lo].1, &mut right[0].1);
        Some(if ia < ib { (x, y) } else { (y, x) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> ParamStore {
        let mut s = ParamStore::new();
        s.insert(
            "encoder.layer0.attn.q.weight",
            &[2, 3],
            &[1., 2., 3., 4., 5., 6.],
        )
        .unwrap();
        s.insert("encoder.layer0.attn.q.bias", &[3], &[0.5, -0.5, 0.25])
            .unwrap();
        s
    }

    #[test]
    fn insert_get_iterate() {
        let mut s = store();
        assert_eq!(s.len(), 2);
        assert_eq!(s.num_values(), 9);
        assert_eq!(
            s.get("encoder.layer0.attn.q.bias"),
            Some(&[0.5, -0.5, 0.25][..])
        );
        assert_eq!(s.shape("encoder.layer0.attn.q.weight"), Some(&[2, 3][..]));
        s.get_mut("encoder.layer0.attn.q.bias").unwrap()[0] = 9.0;
        assert_eq!(s.as_slice()[6], 9.0);
        let names: Vec<_> = s.iter().map(|p| p.name).collect();
        assert_eq!(
            names,
            ["encoder.layer0.attn.q.weight", "encoder.layer0.attn.q.bias"]
        );
        for p in s.iter_mut() {
            p.data.iter_mut().for_each(|x| *x *= 2.0);
        }
        assert_eq!(s.get("encoder.layer0.attn.q.weight").unwrap()[5], 12.0);
    }

    #[test]
    fn insert_errors_name_the_parameter() {
        let mut s = store();
        let e = s
            .insert("encoder.layer0.attn.q.bias", &[1], &[0.0])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("encoder.layer0.attn.q.bias") && e.contains("already"),
            "{e}"
        );
        let e = s.insert("x", &[2, 2], &[0.0; 3]).unwrap_err().to_string();
        assert!(e.contains("'x'") && e.contains("[2, 2]"), "{e}");
        assert!(s.insert("m/x", &[1], &[0.0]).is_err());
        assert!(matches!(
            s.param("nope"),
            Err(RuntimeError::UnknownParam { .. })
        ));
    }

    #[test]
    fn checksum_tracks_bits_names_and_shapes() {
        let a = store();
        let mut b = store();
        assert_eq!(a.checksum(), b.checksum());
        b.get_mut("encoder.layer0.attn.q.bias").unwrap()[1] = -0.0 - 0.5 + f32::EPSILON;
        assert_ne!(a.checksum(), b.checksum());
        let mut c = ParamStore::new();
        c.insert(
            "encoder.layer0.attn.q.weight",
            &[3, 2],
            &[1., 2., 3., 4., 5., 6.],
        )
        .unwrap();
        c.insert("encoder.layer0.attn.q.bias", &[3], &[0.5, -0.5, 0.25])
            .unwrap();
        assert_ne!(a.checksum(), c.checksum());
    }

    #[test]
    fn opt_state_slots() {
        let p = store();
        let mut st = OptState::adamw(&p);
        assert!(st.slot("m").unwrap().same_layout(&p));
        let (m, v) = st.slot_pair_mut("m", "v").unwrap();
        m.as_mut_slice()[0] = 1.0;
        v.as_mut_slice()[0] = 2.0;
        let (v, m) = st.slot_pair_mut("v", "m").unwrap();
        assert_eq!((m.as_slice()[0], v.as_slice()[0]), (1.0, 2.0));
        assert!(st.slot_pair_mut("m", "m").is_none());
    }
}
