//! `optimizer = { ... }`: the optimizer and learning-rate schedule of a training stage.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `optimizer = { ... }` of a pretraining or downstream stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    #[serde(default)]
    pub kind: OptimizerKind,
    /// Peak learning rate (> 0).
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Linear warm-up, in steps.
    #[serde(default)]
    pub warmup: u64,
    #[serde(default = "default_weight_decay")]
    pub weight_decay: f64,
    /// SGD momentum (ignored by AdamW).
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    /// Clip the global gradient norm to this; 0 turns clipping off.
    #[serde(default = "default_clip_norm")]
    pub clip_norm: f64,
    #[serde(default)]
    pub schedule: Schedule,
}

fn default_lr() -> f64 {
    5e-4
}
fn default_weight_decay() -> f64 {
    0.01
}
fn default_momentum() -> f64 {
    0.9
}
fn default_clip_norm() -> f64 {
    1.0
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig {
            kind: OptimizerKind::default(),
            lr: default_lr(),
            warmup: 0,
            weight_decay: default_weight_decay(),
            momentum: default_momentum(),
            clip_norm: default_clip_norm(),
            schedule: Schedule::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    #[default]
    Adamw,
    Sgd,
}

/// Learning-rate schedule after warm-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    #[default]
    Linear,
    Cosine,
    Constant,
}
