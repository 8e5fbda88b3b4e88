//! `[encoder]`: the transformer encoder's shape.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[encoder]`: a transformer encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EncoderConfig {
    /// Number of layers (at least 1).
    #[serde(default = "default_depth")]
    pub depth: usize,
    /// Hidden size; `heads` must divide it.
    #[serde(default = "default_d_model")]
    pub d_model: usize,
    #[serde(default = "default_heads")]
    pub heads: usize,
    /// Inner size of the feed-forward block.
    #[serde(default = "default_ffn")]
    pub ffn: usize,
    /// Dropout probability, in [0, 1).
    #[serde(default = "default_dropout")]
    pub dropout: f64,
    /// Longest input in tokens; stage `seq_len`s may not exceed it.
    #[serde(default = "default_max_len")]
    pub max_len: usize,
    #[serde(default)]
    pub activation: Activation,
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

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    #[default]
    Gelu,
    Relu,
}

/// Where layer normalisation sits relative to the residual connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NormPlacement {
    #[default]
    Post,
    Pre,
}
