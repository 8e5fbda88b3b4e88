//! Embeddings (word, position, segment) and the Transformer encoder (multi-head self-attention +
//! feed-forward, post-LN as BERT or pre-LN), built as graph nodes with hierarchical names.

use super::fused_layer::fused_layer;
use super::fusion::FusionPlan;
use super::inputs::Input;
use super::params::{Init, ModelBuilder};
use crate::graph::{self, DType, Tensor, ValueId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WordEmbedding {
    /// A learned table `[vocab, d_model]`.
    Learned,
    /// No word embedding (positions and segments only; an ablation baseline).
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PositionEmbedding {
    Learned,
    /// Fixed sinusoids (Vaswani et al.), a constant in the graph.
    Sinusoidal,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Activation {
    Gelu,
    Relu,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NormPlacement {
    /// LayerNorm after each residual sum (BERT).
    Post,
    /// LayerNorm before each sublayer, plus a final one (GPT-2 style).
    Pre,
}

/// Everything that fixes the encoder's graph and parameter shapes.
#[derive(Debug, Clone, PartialEq)]
pub struct EncoderSpec {
    pub vocab: usize,
    pub d_model: usize,
    pub heads: usize,
    pub ffn: usize,
    pub depth: usize,
    pub max_len: usize,
    pub dropout: f64,
    pub activation: Activation,
    pub norm: NormPlacement,
    pub word: WordEmbedding,
    pub position: PositionEmbedding,
    pub segment: bool,
    /// Causal self-attention (a decoder used as a feature extractor, for causal LM).
    pub causal: bool,
    pub ln_eps: f64,
    /// Language-model heads (mlm, clm) reuse the word embeddings as their output layer; when
    /// false they get their own `decoder` matrix and the word table is updated only through the
    /// tokens a batch contains.
    pub tie_output: bool,
    /// Rows hold several documents (`pack = "masked"`, Krell et al. 2021): the graph takes
    /// `position_ids [B, T]` (positions restarting at each document) and `document_mask
    /// [B, T, T]` (1 where a query may attend a key: the same document), and is never fused.
    /// Same parameters as without.
    pub masked_packing: bool,
}

impl EncoderSpec {
    /// A small default used by tests and benchmarks.
    pub fn tiny(vocab: usize) -> EncoderSpec {
        EncoderSpec {
            vocab,
            d_model: 16,
            heads: 2,
            ffn: 32,
            depth: 2,
            max_len: 16,
            dropout: 0.1,
            activation: Activation::Gelu,
            norm: NormPlacement::Post,
            word: WordEmbedding::Learned,
            position: PositionEmbedding::Learned,
            segment: true,
            causal: false,
            ln_eps: 1e-12,
            tie_output: true,
            masked_packing: false,
        }
    }
}

/// The batch inputs of an encoder graph.
pub struct EncoderInputs {
    /// `[B, T]` i64 token ids.
    pub input_ids: ValueId,
    /// `[B, T]` i64, 1 for real tokens, 0 for padding.
    pub attention_mask: ValueId,
    /// `[B, T]` i64 segment ids (only with segment embeddings).
    pub token_type_ids: Option<ValueId>,
    /// `[B, T]` i64 position of each token in its document (only with `masked_packing`).
    pub position_ids: Option<ValueId>,
    /// `[B, T, T]` i64, 1 where query `i` may attend key `j` (only with `masked_packing`).
    pub document_mask: Option<ValueId>,
}

impl EncoderInputs {
    /// Declares the graph inputs `input_ids`, `attention_mask`, (with segments)
    /// `token_type_ids` and (with masked packing) `position_ids` and `document_mask`.
    pub fn declare(
        m: &mut ModelBuilder,
        spec: &EncoderSpec,
        batch: usize,
        seq: usize,
    ) -> graph::Result<EncoderInputs> {
        let input_ids =
            m.g.input(Input::InputIds.name(), DType::I64, &[batch, seq])?;
        let attention_mask =
            m.g.input(Input::AttentionMask.name(), DType::I64, &[batch, seq])?;
        let token_type_ids = if spec.segment {
            Some(m.g.input(Input::TokenTypeIds.name(), DType::I64, &[batch, seq])?)
        } else {
            None
        };
        let (position_ids, document_mask) = if spec.masked_packing {
            (
                Some(m.g.input(Input::PositionIds.name(), DType::I64, &[batch, seq])?),
                Some(m.g.input(Input::DocumentMask.name(), DType::I64, &[batch, seq, seq])?),
            )
        } else {
            (None, None)
        };
        Ok(EncoderInputs {
            input_ids,
            attention_mask,
            token_type_ids,
            position_ids,
            document_mask,
        })
    }
}

/// The encoder's output: `[B, T, D]` features and the word table (for tied output layers).
pub struct EncoderOutput {
    pub hidden: ValueId,
    pub word_table: Option<ValueId>,
    /// Every layer's `[B, T, D]` output: the embeddings' (0), then each encoder layer's
    /// (1..=depth; the last is `hidden`, after the final LayerNorm of a pre-LN encoder).
    pub layers: Vec<ValueId>,
}

fn sinusoids(len: usize, d: usize) -> Vec<f64> {
    let mut v = vec![0.0; len * d];
    for p in 0..len {
        for i in 0..d {
            let rate = 1.0 / 10000f64.powf((2 * (i / 2)) as f64 / d as f64);
            let a = p as f64 * rate;
            v[p * d + i] = if i % 2 == 0 { a.sin() } else { a.cos() };
        }
    }
    v
}

/// Builds embeddings + `spec.depth` layers under the scopes `embeddings` and `encoder.layerN`.
/// Forward-only f32 graphs use ONNX Runtime's fused kernels where [`FusionPlan`] allows (same
/// parameters, same function); [`ModelBuilder::fusion`] turns that off.
pub fn encoder(
    m: &mut ModelBuilder,
    spec: &EncoderSpec,
    inp: &EncoderInputs,
) -> graph::Result<EncoderOutput> {
    let s = m.g.shape(inp.input_ids).to_vec();
    let (b, t, d) = (s[0], s[1], spec.d_model);
    let dt = m.dtype;
    let (x, word_table) = m.scoped(
        "embeddings",
        |m| -> graph::Result<(ValueId, Option<ValueId>)> {
            let mut parts = Vec::new();
            let mut table = None;
            if spec.word == WordEmbedding::Learned {
                let w = m.param("word", &[spec.vocab, d], Init::Normal(0.02))?;
                table = Some(w);
                parts.push(m.g.gather(w, inp.input_ids, 0)?);
            }
            // `[T, D]` rows for positions 0..T, or `[B, T, D]` rows picked by `position_ids`.
            let rows = |m: &mut ModelBuilder, table: ValueId| match inp.position_ids {
                Some(ids) => m.g.gather(table, ids, 0),
                None => Ok(table),
            };
            match spec.position {
                PositionEmbedding::Learned => {
                    let p = m.param("position", &[spec.max_len, d], Init::Normal(0.02))?;
                    let p = if t == spec.max_len {
                        p
                    } else {
                        m.g.slice(p, 0, 0, t)?
                    };
                    parts.push(rows(m, p)?);
                }
                PositionEmbedding::Sinusoidal => {
                    let c = match dt {
                        DType::F64 => Tensor::f64(vec![t, d], sinusoids(t, d)),
                        _ => Tensor::f32(
                            vec![t, d],
                            sinusoids(t, d).into_iter().map(|v| v as f32).collect(),
                        ),
                    };
                    let c = m.g.constant(c);
                    parts.push(rows(m, c)?);
                }
                PositionEmbedding::None => {}
            }
            if let Some(seg) = inp.token_type_ids {
                let w = m.param("segment", &[2, d], Init::Normal(0.02))?;
                parts.push(m.g.gather(w, seg, 0)?);
            }
            let mut x = match parts.first() {
                Some(&p) => p,
                None => m.g.zeros(dt, &[b, t, d])?,
            };
            // `skip`, not `[1..]`: with no word, position or segment embeddings there are none.
            for &p in parts.iter().skip(1) {
                x = m.g.add(x, p)?;
            }
            if m.g.shape(x) != [b, t, d] {
                x = m.g.expand(x, &[b, t, d])?;
            }
            let x = m.layer_norm("norm", x, spec.ln_eps)?;
            Ok((m.dropout(x, spec.dropout)?, table))
        },
    )?;
    // Additive attention bias: 0 where attending is allowed, -10000 elsewhere, [B, 1, 1|T, T].
    let bias = m.scoped("attention_bias", |m| -> graph::Result<ValueId> {
        let mf = m.g.cast(inp.attention_mask, dt)?;
        let inv = m.g.add_scalar(mf, -1.0)?;
        let bias = m.g.mul_scalar(inv, 10000.0)?;
        let mut bias = m.g.reshape(bias, &[b, 1, 1, t])?;
        if let Some(mask) = inp.document_mask {
            // Block-diagonal by document: the same bias where query and key are apart.
            let mf = m.g.cast(mask, dt)?;
            let inv = m.g.add_scalar(mf, -1.0)?;
            let apart = m.g.mul_scalar(inv, 10000.0)?;
            let apart = m.g.reshape(apart, &[b, 1, t, t])?;
            bias = m.g.add(bias, apart)?;
        }
        if spec.causal {
            let mut c = vec![0.0; t * t];
            for i in 0..t {
                for j in i + 1..t {
                    c[i * t + j] = -10000.0;
                }
            }
            let c = match dt {
                DType::F64 => Tensor::f64(vec![1, 1, t, t], c),
                _ => Tensor::f32(vec![1, 1, t, t], c.into_iter().map(|v| v as f32).collect()),
            };
            let c = m.g.constant(c);
            m.g.add(bias, c)
        } else {
            Ok(bias)
        }
    })?;
    let plan = FusionPlan::new(spec, dt, m.train, m.fusion);
    let mut h = x;
    let mut layers = vec![x];
    for l in 0..spec.depth {
        h = m.scoped(&format!("encoder.layer{l}"), |m| {
            if plan.attention {
                fused_layer(m, spec, &plan, h, inp.attention_mask)
            } else {
                layer(m, spec, h, bias)
            }
        })?;
        layers.push(h);
    }
    if spec.norm == NormPlacement::Pre {
        h = m.scoped("encoder", |m| m.layer_norm("final_norm", h, spec.ln_eps))?;
        if let Some(last) = layers.last_mut() {
            *last = h;
        }
    }
    Ok(EncoderOutput {
        hidden: h,
        word_table,
        layers,
    })
}

fn layer(
    m: &mut ModelBuilder,
    spec: &EncoderSpec,
    x: ValueId,
    bias: ValueId,
) -> graph::Result<ValueId> {
    let pre = spec.norm == NormPlacement::Pre;
    let a_in = if pre {
        m.layer_norm("attn_norm", x, spec.ln_eps)?
    } else {
        x
    };
    let a = m.scoped("attn", |m| attention(m, spec, a_in, bias))?;
    let a = m.dropout(a, spec.dropout)?;
    let h = m.g.add(x, a)?;
    let h = if pre {
        h
    } else {
        m.layer_norm("attn_norm", h, spec.ln_eps)?
    };
    let f_in = if pre {
        m.layer_norm("ffn_norm", h, spec.ln_eps)?
    } else {
        h
    };
    let f = m.scoped("ffn", |m| -> graph::Result<ValueId> {
        let u = m.dense("up", f_in, spec.ffn)?;
        let u = match spec.activation {
            Activation::Gelu => m.g.gelu(u)?,
            Activation::Relu => m.g.relu(u)?,
        };
        m.dense("down", u, spec.d_model)
    })?;
    let f = m.dropout(f, spec.dropout)?;
    let o = m.g.add(h, f)?;
    if pre {
        Ok(o)
    } else {
        m.layer_norm("ffn_norm", o, spec.ln_eps)
    }
}

/// Multi-head self-attention with one fused `[D, 3D]` projection for queries, keys and values.
fn attention(
    m: &mut ModelBuilder,
    spec: &EncoderSpec,
    x: ValueId,
    bias: ValueId,
) -> graph::Result<ValueId> {
    let s = m.g.shape(x).to_vec();
    let (b, t, d) = (s[0], s[1], s[2]);
    let (h, dh) = (spec.heads, spec.d_model / spec.heads);
    let x2 = m.g.reshape(x, &[b * t, d])?;
    let qkv = m.dense("qkv", x2, 3 * d)?;
    let parts = m.g.split(qkv, 1, &[d, d, d])?;
    let mut heads = Vec::new();
    for (i, &p) in parts.iter().enumerate() {
        let r = m.g.reshape(p, &[b, t, h, dh])?;
        // q, v: [B, H, T, dh]; k: [B, H, dh, T]
        let perm: &[usize] = if i == 1 { &[0, 2, 3, 1] } else { &[0, 2, 1, 3] };
        heads.push(m.g.transpose(r, perm)?);
    }
    let scores = m.g.matmul(heads[0], heads[1])?;
    let scores = m.g.mul_scalar(scores, 1.0 / (dh as f64).sqrt())?;
    let scores = m.g.add(scores, bias)?;
    let probs = m.g.softmax(scores, -1)?;
    let probs = m.dropout(probs, spec.dropout)?;
    let ctx = m.g.matmul(probs, heads[2])?;
    let ctx = m.g.transpose(ctx, &[0, 2, 1, 3])?;
    let ctx = m.g.reshape(ctx, &[b * t, d])?;
    let o = m.dense("out", ctx, d)?;
    m.g.reshape(o, &[b, t, d])
}
