//! `[encoder]`: the transformer encoder's shape.

use super::embeddings::{EmbeddingsConfig, PositionEmbedding, WordEmbedding};
use super::limits;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[encoder]`: a transformer encoder. Its embeddings and layers may hold at most 2^31
/// parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EncoderConfig {
    /// Number of layers.
    #[serde(default = "default_depth")]
    #[schemars(range(min = 1, max = limits::DEPTH))]
    pub depth: usize,
    /// Hidden size (the width of embeddings and features); `heads` must divide it.
    #[serde(default = "default_d_model")]
    #[schemars(range(min = 1, max = limits::D_MODEL))]
    pub d_model: usize,
    /// Attention heads per layer; a divisor of `d_model`.
    #[serde(default = "default_heads")]
    #[schemars(range(min = 1))]
    pub heads: usize,
    /// Inner size of the feed-forward block.
    #[serde(default = "default_ffn")]
    #[schemars(range(min = 1, max = limits::FFN))]
    pub ffn: usize,
    /// Dropout probability (on embeddings, attention and feed-forward outputs) while training.
    #[serde(default = "default_dropout")]
    #[schemars(range(min = 0.0), extend("exclusiveMaximum" = 1.0))]
    pub dropout: f64,
    /// Longest input in tokens: the size of the learned position table, which stage `seq_len`s
    /// may not exceed.
    #[serde(default = "default_max_len")]
    #[schemars(range(min = 1, max = limits::MAX_LEN))]
    pub max_len: usize,
    /// Activation of the feed-forward block.
    #[serde(default)]
    pub activation: Activation,
    /// Where layer normalisation sits.
    #[serde(default)]
    pub norm: NormPlacement,
}

fn default_depth() -> usize {
    2
}
fn default_d_model() -> usize {
    128
}
fn default_heads() -> usize {
    2
}
fn default_ffn() -> usize {
    512
}
fn default_dropout() -> f64 {
    0.1
}
fn default_max_len() -> usize {
    128
}

impl EncoderConfig {
    /// Parameters of one layer: the attention's query, key, value and output projections with
    /// their biases (4d² + 4d), the feed-forward block (2·d·ffn + ffn + d) and two layer norms
    /// (4d). In f64, as the cost model computes, so that absurd sizes saturate instead of
    /// overflowing; exact for every size the limits admit (far below 2^53).
    pub fn layer_params(&self) -> f64 {
        let (d, f) = (self.d_model as f64, self.ffn as f64);
        4.0 * d * d + 4.0 * d + 2.0 * d * f + f + d + 4.0 * d
    }

    /// Parameters of the embeddings and every layer: the word table (`vocab` rows, unless
    /// `embeddings.word = "none"`), the learned position table (`max_len` rows), the segment
    /// table, the embeddings' layer norm and [`EncoderConfig::layer_params`] per layer. Heads
    /// are not counted, nor the final layer norm of a pre-norm encoder (2d). The one count the
    /// cost model and validation's size limit share.
    pub fn params(&self, vocab: usize, embeddings: &EmbeddingsConfig) -> f64 {
        let d = self.d_model as f64;
        let mut n = 2.0 * d;
        if embeddings.word != WordEmbedding::None {
            n += vocab as f64 * d;
        }
        if embeddings.position == PositionEmbedding::Learned {
            n += self.max_len as f64 * d;
        }
        if embeddings.segment {
            n += 2.0 * d;
        }
        n + self.depth as f64 * self.layer_params()
    }
}

impl Default for EncoderConfig {
    fn default() -> Self {
        EncoderConfig {
            depth: default_depth(),
            d_model: default_d_model(),
            heads: default_heads(),
            ffn: default_ffn(),
            dropout: default_dropout(),
            max_len: default_max_len(),
            activation: Activation::default(),
            norm: NormPlacement::default(),
        }
    }
}

/// `encoder.activation`: the feed-forward block's nonlinearity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// Gaussian error linear unit (exact, as in BERT).
    #[default]
    Gelu,
    /// Rectified linear unit.
    Relu,
}

/// Where layer normalisation sits relative to the residual connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NormPlacement {
    /// After each residual addition (BERT).
    #[default]
    Post,
    /// Before each sub-layer, on its input, with a final normalisation after the last layer.
    Pre,
}
