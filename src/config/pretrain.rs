//! `[pretrain.NAME]`: a pretraining stage.

use super::limits;
use super::optimizer::OptimizerConfig;
use super::pack::Pack;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[pretrain.NAME]`: one pretraining stage. It runs only if a downstream stage starts from it
/// (`from`), once per distinct configuration, however many cells share it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PretrainConfig {
    /// The training objective, or `import` to load a model instead.
    #[serde(default)]
    pub task: PretrainTask,
    /// The NAME of a `[corpus.NAME]` or `[dataset.NAME]` to train on (`classify` needs a
    /// dataset; `import` reads none).
    #[serde(default)]
    pub data: String,
    /// For `task = "import"`: a BERT-family model directory (config.json, model.safetensors,
    /// tokenizer.json), whose architecture and tokenizer the stages after it use; or a
    /// params.safetensors saved by embedlab (same encoder and tokenizer as this experiment).
    #[serde(default)]
    pub path: Option<std::path::PathBuf>,
    /// Optimizer steps (batches) to train for.
    #[serde(default = "default_steps")]
    #[schemars(range(min = 1))]
    pub steps: u64,
    /// Sequences per batch; `batch_size` × `seq_len` may not exceed 2^22 tokens.
    #[serde(default = "default_batch_size")]
    #[schemars(range(min = 1, max = limits::BATCH_SIZE))]
    pub batch_size: usize,
    /// Tokens per sequence, special tokens included; at most `encoder.max_len` with learned
    /// positions.
    #[serde(default = "default_seq_len")]
    #[schemars(range(min = 2, max = limits::MAX_LEN))]
    pub seq_len: usize,
    /// Share of tokens masked by `mlm`.
    #[serde(default = "default_mask_prob")]
    #[schemars(extend("exclusiveMinimum" = 0.0, "exclusiveMaximum" = 1.0))]
    pub mask_prob: f64,
    /// The stage's optimizer and learning-rate schedule (see `optimizer = { ... }`).
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    /// Pretraining's own seed: one pretrained encoder serves every replicate of a cell.
    #[serde(default)]
    pub seed: u64,
    /// Pretrain once per run seed instead (the run seed replaces `seed`).
    #[serde(default)]
    pub replicate: bool,
    /// `mlm`/`clm`: the output layer is the word-embedding table (BERT, GPT). Untied, the
    /// output layer is a separate matrix and a token's embedding changes only when it occurs,
    /// so tokens the corpus lacks keep their random initialisation instead of drifting
    /// together under the softmax's shared gradient.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    #[schemars(extend("default" = true))]
    pub tie_output: bool,
    /// `mlm`/`clm`: how documents become rows (a document is a line unless the corpus says
    /// otherwise, see `document`). Packing fills the rows so that nearly no position is padding
    /// (RoBERTa, Cramming); `"documents"` and `"masked"` keep every token's context within its
    /// own document, as a downstream input is. runs.csv reports `pretrain_padding_share` and
    /// `pretrain_real_tokens_per_second`. The other tasks read whole examples and ignore it.
    #[serde(default)]
    pub pack: Pack,
    /// The encoder's dropout rate in this stage (`encoder.dropout` otherwise); Cramming
    /// pretrains without dropout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0), extend("exclusiveMaximum" = 1.0))]
    pub dropout: Option<f64>,
}

fn default_true() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}

fn default_steps() -> u64 {
    1000
}
pub(super) fn default_batch_size() -> usize {
    32
}
pub(super) fn default_seq_len() -> usize {
    64
}
fn default_mask_prob() -> f64 {
    0.15
}

/// `pretrain.NAME.task`: what a pretraining stage trains the encoder on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PretrainTask {
    /// Masked language modelling.
    #[default]
    Mlm,
    /// Causal (next-token) language modelling.
    Clm,
    /// Next-sentence prediction.
    Nsp,
    /// Sentence-order prediction.
    Sop,
    /// Intermediate supervised classification on a dataset.
    Classify,
    /// Load parameters from `path` instead of training.
    Import,
}

impl PretrainTask {
    /// Whether the task reads a corpus's documents into rows as `pack` says (`mlm`, `clm`); the
    /// others read whole examples.
    pub fn packs(self) -> bool {
        match self {
            PretrainTask::Mlm | PretrainTask::Clm => true,
            PretrainTask::Nsp
            | PretrainTask::Sop
            | PretrainTask::Classify
            | PretrainTask::Import => false,
        }
    }
}
