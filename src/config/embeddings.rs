//! `[embeddings]`: which input embeddings the encoder has.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[embeddings]`: which input embeddings the encoder has.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingsConfig {
    #[serde(default)]
    pub word: WordEmbedding,
    #[serde(default)]
    pub position: PositionEmbedding,
    /// Segment (sentence A/B) embeddings; they matter only for pair input.
    #[serde(default)]
    pub segment: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WordEmbedding {
    /// A trainable table.
    #[default]
    Learned,
    /// Word vectors trained upstream, kept fixed.
    Static,
    None,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PositionEmbedding {
    #[default]
    Learned,
    Sinusoidal,
    None,
}
