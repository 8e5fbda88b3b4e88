//! `optimizer = { ... }`: the optimizer and learning-rate schedule of a training stage.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `optimizer = { ... }`: the optimizer and learning-rate schedule of a pretraining or downstream
/// stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    /// The update rule.
    #[serde(default)]
    pub kind: OptimizerKind,
    /// Peak learning rate, reached at the end of warm-up.
    #[serde(default = "default_lr")]
    #[schemars(extend("exclusiveMinimum" = 0.0))]
    pub lr: f64,
    /// Steps of linear warm-up from 0 to `lr`.
    #[serde(default)]
    pub warmup: u64,
    /// Weight decay of weight matrices and embeddings (not of biases and LayerNorm parameters).
    #[serde(default = "default_weight_decay")]
    #[schemars(range(min = 0.0))]
    pub weight_decay: f64,
    /// SGD momentum (ignored by AdamW).
    #[serde(default = "default_momentum")]
    #[schemars(range(min = 0.0), extend("exclusiveMaximum" = 1.0))]
    pub momentum: f64,
    /// Clip the global gradient norm to this; 0 turns clipping off.
    #[serde(default = "default_clip_norm")]
    #[schemars(range(min = 0.0))]
    pub clip_norm: f64,
    /// How the learning rate falls after warm-up.
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

/// `optimizer.kind`: the update rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Adam with decoupled weight decay (β1 0.9, β2 0.999, ε 1e-8).
    #[default]
    Adamw,
    /// Stochastic gradient descent with `momentum`.
    Sgd,
}

/// Learning-rate schedule after warm-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// Linear decay to 0 at the stage's last step.
    #[default]
    Linear,
    /// Half-cosine decay to 0 at the stage's last step.
    Cosine,
    /// `lr` throughout.
    Constant,
}
