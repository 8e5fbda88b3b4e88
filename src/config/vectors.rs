//! `[vectors]`: how the static word vectors of `embeddings.word = "static"` / `"static-tuned"`
//! are trained (skip-gram with negative sampling, as word2vec) and checked.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[vectors]`: skip-gram with negative sampling over the texts the tokenizer was fitted on, as
/// word2vec trains it (Mikolov et al. 2013): a dynamic window, frequent-word subsampling,
/// negatives drawn from the unigram distribution raised to ¾, passes over the corpus, a linearly
/// decaying rate. Read only when `embeddings.word` is `"static"` or `"static-tuned"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VectorsConfig {
    /// Context words on each side of a word (each word draws its window in 1..=window).
    #[serde(default = "default_window")]
    #[schemars(range(min = 1, max = 50))]
    pub window: usize,
    /// Passes over the corpus.
    #[serde(default = "default_epochs")]
    #[schemars(range(min = 1, max = 1000))]
    pub epochs: usize,
    /// Negative samples per (word, context) pair.
    #[serde(default = "default_negatives")]
    #[schemars(range(min = 1, max = 100))]
    pub negatives: usize,
    /// Frequent-word subsampling threshold (word2vec's `-sample`); 0 turns it off.
    #[serde(default = "default_subsample")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub subsample: f64,
    /// AdamW's peak step size, decaying linearly over the passes.
    #[serde(default = "default_lr")]
    #[schemars(extend("exclusiveMinimum" = 0.0))]
    pub lr: f64,
    /// A TSV of word pairs expected to be close (header row; two columns), such as WordNet
    /// synonyms: the stage reports their mean cosine minus that of random pairs
    /// (`vectors.synonym_cosine_gap`). Pairs with a word that is not one token are left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synonyms: Option<PathBuf>,
    /// Words whose nearest neighbours the stage prints.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("default" = []))]
    pub neighbours_of: Vec<String>,
}

fn default_window() -> usize {
    5
}
fn default_epochs() -> usize {
    5
}
fn default_negatives() -> usize {
    5
}
fn default_subsample() -> f64 {
    1e-4
}
fn default_lr() -> f64 {
    5e-3
}

impl Default for VectorsConfig {
    fn default() -> Self {
        VectorsConfig {
            window: default_window(),
            epochs: default_epochs(),
            negatives: default_negatives(),
            subsample: default_subsample(),
            lr: default_lr(),
            synonyms: None,
            neighbours_of: Vec::new(),
        }
    }
}
