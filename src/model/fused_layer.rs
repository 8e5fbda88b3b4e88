//! One encoder layer built from ONNX Runtime's fused kernels (see `model::fusion`): the same
//! parameters, under the same names and in the same order, as `encoder::layer`, and the same
//! function of them (held to it by tests/it/graph/fused.rs). Forward-only: no dropout.

use super::encoder::{Activation, EncoderSpec, NormPlacement};
use super::fusion::FusionPlan;
use super::params::{Init, ModelBuilder};
use crate::graph::{self, ValueId};

/// `<name>.weight [inp, out]` and `<name>.bias [out]`, declared as `ModelBuilder::dense` does.
fn dense_params(
    m: &mut ModelBuilder,
    name: &str,
    inp: usize,
    out: usize,
) -> graph::Result<(ValueId, ValueId)> {
    m.scoped(name, |m| {
        let w = m.param("weight", &[inp, out], Init::Normal(0.02))?;
        let b = m.param("bias", &[out], Init::Zeros)?;
        Ok((w, b))
    })
}

/// `<name>.weight` (ones) and `<name>.bias` (zeros), declared as `ModelBuilder::layer_norm` does.
fn norm_params(m: &mut ModelBuilder, name: &str, d: usize) -> graph::Result<(ValueId, ValueId)> {
    m.scoped(name, |m| {
        let w = m.param("weight", &[d], Init::Ones)?;
        let b = m.param("bias", &[d], Init::Zeros)?;
        Ok((w, b))
    })
}

/// A layer over `x: [B, T, D]` with the i64 `attention_mask: [B, T]`.
pub(super) fn fused_layer(
    m: &mut ModelBuilder,
    spec: &EncoderSpec,
    plan: &FusionPlan,
    x: ValueId,
    attention_mask: ValueId,
) -> graph::Result<ValueId> {
    let d = spec.d_model;
    let pre = spec.norm == NormPlacement::Pre;
    let a_in = if pre {
        m.layer_norm("attn_norm", x, spec.ln_eps)?
    } else {
        x
    };
    // Attention without its output bias, which the SkipLayerNormalization after it adds.
    let (a, out_bias) = m.scoped("attn", |m| -> graph::Result<(ValueId, ValueId)> {
        let (wqkv, bqkv) = dense_params(m, "qkv", d, 3 * d)?;
        let ctx =
            m.g.fused_self_attention(a_in, wqkv, bqkv, attention_mask, spec.heads, spec.causal)?;
        let (wo, bo) = dense_params(m, "out", d, d)?;
        Ok((m.g.matmul(ctx, wo)?, bo))
    })?;
    // Post-LN: h = LN(x + a + b_out). Pre-LN: h = x + a + b_out, and the FFN's input LN(h).
    let (h, f_in) = if pre {
        let (s, sh) = norm_params(m, "ffn_norm", d)?;
        let (f_in, h) = m.g.skip_layer_norm(a, x, s, sh, out_bias, spec.ln_eps)?;
        (h, f_in)
    } else {
        let (s, sh) = norm_params(m, "attn_norm", d)?;
        let (h, _) = m.g.skip_layer_norm(a, x, s, sh, out_bias, spec.ln_eps)?;
        (h, h)
    };
    let (f, down_bias) = m.scoped("ffn", |m| -> graph::Result<(ValueId, ValueId)> {
        let (wu, bu) = dense_params(m, "up", d, spec.ffn)?;
        let u = m.g.matmul(f_in, wu)?;
        let u = match spec.activation {
            Activation::Gelu if plan.bias_gelu => m.g.bias_gelu(u, bu)?,
            Activation::Gelu => {
                let u = m.g.add(u, bu)?;
                m.g.gelu(u)?
            }
            Activation::Relu => {
                let u = m.g.add(u, bu)?;
                m.g.relu(u)?
            }
        };
        let (wd, bd) = dense_params(m, "down", spec.ffn, d)?;
        Ok((m.g.matmul(u, wd)?, bd))
    })?;
    if pre {
        let f = m.g.add(f, down_bias)?;
        m.g.add(h, f)
    } else {
        let (s, sh) = norm_params(m, "ffn_norm", d)?;
        let (o, _) = m.g.skip_layer_norm(f, h, s, sh, down_bias, spec.ln_eps)?;
        Ok(o)
    }
}
