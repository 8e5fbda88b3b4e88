//! Fused forward-only Transformer kernels of ONNX Runtime's contrib domain (`com.microsoft`):
//! multi-head self-attention with its input projection, residual sum + LayerNorm, and bias + exact
//! GELU. The CPU execution provider implements all three for f32 (ONNX Runtime 1.32:
//! `contrib_ops/cpu/bert/attention.cc`, `contrib_ops/cpu/skip_layer_norm.cc`,
//! `contrib_ops/cpu/bert/bias_gelu.cc`). They serve inference graphs only (encode, eval, frozen
//! features, export), built by `model::encoder` when fusion is on; none has a gradient rule, and
//! the unfused encoder is their reference (tests/it/graph/fused.rs holds the two to each other).
//! Builder (shape rule), ONNX emission and the explicit "no gradient" side by side.

use super::family::op_family;
use crate::graph::DType;
use crate::graph::error::{GraphError, Result};
use crate::graph::export::{Emitter, attr_float, attr_int};
use crate::graph::ir::{Graph, Node, ValueId};

/// ONNX `TensorProto.DataType` code of int32 (the Attention op's mask type; not an IR dtype).
const ONNX_INT32: i64 = 6;

op_family! {
    /// Fused inference kernels (contrib domain), f32 only.
    pub enum FusedOp / FusedKind {
        /// com.microsoft Attention: inputs `x [B, T, D]`, `weight [D, 3D]` (queries, keys, values
        /// side by side), `bias [3D]`, `attention_mask [B, T]` i64 (1 attend, 0 padding).
        MultiHeadSelfAttention { heads: usize, causal: bool },
        /// com.microsoft SkipLayerNormalization: `LN(x + skip + bias)` and the sum itself.
        SkipLayerNorm { eps: f64 },
        /// com.microsoft BiasGelu: exact (erf) GELU of `x + bias`.
        BiasGelu,
    }
}

impl FusedKind {
    pub fn differentiable(self) -> bool {
        match self {
            FusedKind::MultiHeadSelfAttention | FusedKind::SkipLayerNorm | FusedKind::BiasGelu => {
                false
            }
        }
    }
}

impl Graph {
    fn fused_f32(&self, op: &'static str, v: ValueId) -> Result<()> {
        if self.dtype(v) == DType::F32 {
            Ok(())
        } else {
            Err(GraphError::DType {
                op,
                node: self.here(op),
                expected: "f32 (the fused kernels are float only)".into(),
                found: self.dtype(v),
            })
        }
    }

    /// Multi-head self-attention of `x: [B, T, D]` with the fused projection `weight: [D, 3D]`,
    /// `bias: [3D]` (queries, keys, values in that order), scores scaled by `1/sqrt(D/heads)`, an
    /// additive -10000 where `attention_mask: [B, T]` (i64) is 0 and, with `causal`, on future
    /// positions. Returns the heads' contexts concatenated, `[B, T, D]` (no output projection).
    pub fn fused_self_attention(
        &mut self,
        x: ValueId,
        weight: ValueId,
        bias: ValueId,
        attention_mask: ValueId,
        heads: usize,
        causal: bool,
    ) -> Result<ValueId> {
        let op = "MultiHeadSelfAttention";
        self.fused_f32(op, x)?;
        let s = self.shape(x).to_vec();
        let ok = s.len() == 3
            && heads > 0
            && s[2].is_multiple_of(heads)
            && self.shape(weight) == [s[2], 3 * s[2]]
            && self.shape(bias) == [3 * s[2]]
            && self.shape(attention_mask) == [s[0], s[1]]
            && self.dtype(attention_mask) == DType::I64;
        if !ok {
            return Err(GraphError::Shape {
                op,
                node: self.here(op),
                message: format!(
                    "expected x [B, T, D] with D divisible by {heads} heads, weight [D, 3D], \
                     bias [3D] and an i64 mask [B, T]; found {s:?}, {:?}, {:?}, {:?}",
                    self.shape(weight),
                    self.shape(bias),
                    self.shape(attention_mask)
                ),
            });
        }
        let op = FusedOp::MultiHeadSelfAttention { heads, causal };
        Ok(self.push1(
            "attention",
            op,
            vec![x, weight, bias, attention_mask],
            DType::F32,
            s,
        ))
    }

    /// `LayerNorm(x + skip + bias)` over the last axis with `scale`, `shift`, `bias: [D]` and
    /// `x`, `skip` of one shape. Returns (normalised, the sum `x + skip + bias`).
    pub fn skip_layer_norm(
        &mut self,
        x: ValueId,
        skip: ValueId,
        scale: ValueId,
        shift: ValueId,
        bias: ValueId,
        eps: f64,
    ) -> Result<(ValueId, ValueId)> {
        let op = "SkipLayerNorm";
        self.fused_f32(op, x)?;
        let s = self.shape(x).to_vec();
        let d = s.last().copied().unwrap_or(0);
        let ok = !s.is_empty()
            && self.shape(skip) == s.as_slice()
            && [scale, shift, bias].iter().all(|&p| self.shape(p) == [d]);
        if !ok {
            return Err(GraphError::Shape {
                op,
                node: self.here(op),
                message: format!(
                    "expected x and skip of one shape and [D] parameters; found {s:?}, {:?}, \
                     {:?}, {:?}, {:?}",
                    self.shape(skip),
                    self.shape(scale),
                    self.shape(shift),
                    self.shape(bias)
                ),
            });
        }
        let outs = self.push(
            "skip_layer_norm",
            FusedOp::SkipLayerNorm { eps },
            vec![x, skip, scale, shift, bias],
            vec![(DType::F32, s.clone()), (DType::F32, s)],
        );
        Ok((outs[0], outs[1]))
    }

    /// Exact GELU of `x + bias`, `bias: [D]` broadcast over the last axis of `x`.
    pub fn bias_gelu(&mut self, x: ValueId, bias: ValueId) -> Result<ValueId> {
        let op = "BiasGelu";
        self.fused_f32(op, x)?;
        let s = self.shape(x).to_vec();
        if s.last().map(|&d| self.shape(bias) == [d]) != Some(true) {
            return Err(GraphError::Shape {
                op,
                node: self.here(op),
                message: format!(
                    "bias must be [last axis of x]; found {s:?} and {:?}",
                    self.shape(bias)
                ),
            });
        }
        Ok(self.push1("bias_gelu", FusedOp::BiasGelu, vec![x, bias], DType::F32, s))
    }
}

impl FusedOp {
    /// No gradient: these ops appear in inference graphs only.
    pub(crate) fn vjp(
        &self,
        _g: &mut Graph,
        node: &Node,
        _gout: &[Option<ValueId>],
        _needs: &[bool],
    ) -> Result<Vec<Option<ValueId>>> {
        Err(GraphError::NoGradient {
            op: self.kind().name(),
            node: node.name.clone(),
            reason: " (a fused forward-only kernel; training graphs use the unfused encoder)"
                .into(),
        })
    }

    /// Emits the contrib-domain node (a Cast of the mask to int32 before Attention).
    pub(crate) fn emit(&self, e: &mut Emitter, node: &Node) {
        let ins = e.input_names(node);
        let outs = e.output_names(node);
        let n = &node.name;
        match self {
            FusedOp::MultiHeadSelfAttention { heads, causal } => {
                let mask = e.tmp(n, "mask_i32");
                e.node(
                    "Cast",
                    &format!("{n}/mask"),
                    vec![ins[3].clone()],
                    vec![mask.clone()],
                    vec![attr_int("to", ONNX_INT32)],
                );
                e.ms_node(
                    "Attention",
                    n,
                    vec![ins[0].clone(), ins[1].clone(), ins[2].clone(), mask],
                    outs,
                    vec![
                        attr_int("num_heads", *heads as i64),
                        attr_int("unidirectional", i64::from(*causal)),
                        attr_float("mask_filter_value", -10000.0),
                    ],
                );
            }
            FusedOp::SkipLayerNorm { eps } => e.ms_node(
                "SkipLayerNormalization",
                n,
                ins,
                // outputs: normalised, mean, inverse std (unused), input + skip + bias
                vec![
                    outs[0].clone(),
                    String::new(),
                    String::new(),
                    outs[1].clone(),
                ],
                vec![attr_float("epsilon", *eps as f32)],
            ),
            FusedOp::BiasGelu => e.ms_node("BiasGelu", n, ins, outs, vec![]),
        }
    }
}
