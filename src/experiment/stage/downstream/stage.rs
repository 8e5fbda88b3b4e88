//! What a downstream stage reads: its configuration and the folders of the stages before it.

use crate::config::{DownstreamConfig, EmbeddingsConfig, EncoderConfig};
use crate::experiment::plan::NamedData;
use std::path::Path;

/// A downstream stage's configuration and the folders of the stages it reads.
pub struct DownstreamStage<'a> {
    pub downstream: &'a DownstreamConfig,
    pub encoder: &'a EncoderConfig,
    pub embeddings: &'a EmbeddingsConfig,
    pub data: &'a NamedData,
    pub seed: u64,
    pub tokenizer_dir: &'a Path,
    /// The last pretraining stage of `from` (none for scratch).
    pub pretrained: Option<&'a Path>,
    /// Whether that stage trained a causal LM (attention stays causal).
    pub causal: bool,
}
