//! `[embeddings]`: which input embeddings the encoder has.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[embeddings]`: which input embeddings the encoder has.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingsConfig {
    /// Word (token) embeddings.
    #[serde(default)]
    pub word: WordEmbedding,
    /// Position embeddings.
    #[serde(default)]
    pub position: PositionEmbedding,
    /// Segment (sentence A/B) embeddings; they matter only for pair input (a `pair` downstream
    /// task, `nsp` or `sop` pretraining).
    #[serde(default)]
    pub segment: bool,
}

/// `embeddings.word`: where the word-embedding table comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WordEmbedding {
    /// A trainable table.
    #[default]
    Learned,
    /// Word vectors trained upstream (skip-gram on the tokenizer's texts, `d_model` wide, see
    /// `[vectors]`), kept fixed.
    Static,
    /// The same upstream vectors as an initialisation, trained further with the encoder.
    #[serde(rename = "static-tuned")]
    StaticTuned,
    /// No word embeddings: positions and segments only (an ablation baseline).
    None,
}

impl WordEmbedding {
    /// Whether the table starts from upstream static vectors.
    pub fn uses_vectors(self) -> bool {
        match self {
            WordEmbedding::Static | WordEmbedding::StaticTuned => true,
            WordEmbedding::Learned | WordEmbedding::None => false,
        }
    }
}

/// `embeddings.position`: how the encoder knows where a token is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PositionEmbedding {
    /// A trainable table of `encoder.max_len` positions.
    #[default]
    Learned,
    /// Fixed sine/cosine features (no length limit from the table).
    Sinusoidal,
    /// No position information (a bag of words).
    None,
}
