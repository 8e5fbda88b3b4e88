//! `[downstream.NAME]`: a supervised stage, its transfer mode and its `probe` schedule.

use super::layers::Layers;
use super::optimizer::OptimizerConfig;
use super::pretrain::{default_batch_size, default_seq_len};
use super::stage_ref::StageRef;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[downstream.NAME]`: a supervised task trained and evaluated on a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownstreamConfig {
    #[serde(default)]
    pub task: DownstreamTask,
    /// A dataset name.
    pub data: String,
    /// The pretraining chain this stage starts from.
    #[serde(default)]
    pub from: StageRef,
    #[serde(default)]
    pub transfer: Transfer,
    /// How many of the encoder's layers are transferred with the embeddings (the rest start
    /// random); 0 transfers the embeddings alone.
    #[serde(default)]
    pub layers: Layers,
    #[serde(default = "default_epochs")]
    pub epochs: u32,
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    #[serde(default = "default_seq_len")]
    pub seq_len: usize,
    #[serde(default)]
    pub pooling: Pooling,
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    /// Stop after this many epochs without a better dev score; 0 never stops early.
    #[serde(default)]
    pub patience: u32,
    /// `freeze = "embeddings"`: fine-tune the encoder layers with the (transferred) embeddings
    /// kept fixed. Read by `transfer = "finetune"` only; the other modes ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze: Option<Freeze>,
    /// Training of the linear head in feature extraction (`transfer = "frozen"` with every layer
    /// transferred), which runs on features computed once and so can afford far more epochs
    /// than fine-tuning. Each setting given replaces the stage's own for those runs only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<Probe>,
}

/// `probe = { epochs = 100, patience = 10, lr = 1e-2 }`: see [`DownstreamConfig::probe`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patience: Option<u32>,
    /// Peak learning rate of the head (the stage's optimizer otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
}

impl DownstreamConfig {
    /// The settings a feature-extraction run trains its head with: `probe`'s over the stage's.
    pub fn with_probe(&self) -> DownstreamConfig {
        let mut d = self.clone();
        if let Some(p) = &self.probe {
            d.epochs = p.epochs.unwrap_or(d.epochs);
            d.patience = p.patience.unwrap_or(d.patience);
            d.optimizer.lr = p.lr.unwrap_or(d.optimizer.lr);
        }
        d
    }
}

/// What a fine-tuned downstream stage keeps fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Freeze {
    /// Word, position and segment embeddings and their LayerNorm.
    Embeddings,
}

fn default_epochs() -> u32 {
    3
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DownstreamTask {
    /// One text, one label.
    #[default]
    Classify,
    /// Two texts (`text` and `text_pair` columns), one label.
    Pair,
    /// One tag per token.
    Tag,
}

/// How the pretrained encoder enters the downstream stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transfer {
    /// Random initialisation; `from` and `layers` are ignored.
    Scratch,
    /// Pretrained encoder kept fixed; only the head trains.
    Frozen,
    /// Pretrained encoder trained further with the head.
    #[default]
    Finetune,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The first token's features.
    #[default]
    Cls,
    /// Mean over non-padding tokens.
    Mean,
}
