//! Every conversion from the experiment file's types (`config`) to the model's and the trainer's
//! (`model`, `train`), in one place: `From` for the enums, and the two composite specs.

use crate::config::{self, EmbeddingsConfig, EncoderConfig, OptimizerConfig};
use crate::model::{self, EncoderSpec};
use crate::train::{self, OptimSpec};

impl From<config::Activation> for model::Activation {
    fn from(a: config::Activation) -> Self {
        match a {
            config::Activation::Gelu => model::Activation::Gelu,
            config::Activation::Relu => model::Activation::Relu,
        }
    }
}

impl From<config::NormPlacement> for model::NormPlacement {
    fn from(n: config::NormPlacement) -> Self {
        match n {
            config::NormPlacement::Post => model::NormPlacement::Post,
            config::NormPlacement::Pre => model::NormPlacement::Pre,
        }
    }
}

impl From<config::WordEmbedding> for model::WordEmbedding {
    /// Static vectors are a learned-shaped table whose values come from upstream (and stay fixed,
    /// unless `static-tuned`).
    fn from(w: config::WordEmbedding) -> Self {
        match w {
            config::WordEmbedding::None => model::WordEmbedding::None,
            config::WordEmbedding::Learned
            | config::WordEmbedding::Static
            | config::WordEmbedding::StaticTuned => model::WordEmbedding::Learned,
        }
    }
}

impl From<config::PositionEmbedding> for model::PositionEmbedding {
    fn from(p: config::PositionEmbedding) -> Self {
        match p {
            config::PositionEmbedding::Learned => model::PositionEmbedding::Learned,
            config::PositionEmbedding::Sinusoidal => model::PositionEmbedding::Sinusoidal,
            config::PositionEmbedding::None => model::PositionEmbedding::None,
        }
    }
}

impl From<config::WindowPool> for model::WindowPool {
    fn from(p: config::WindowPool) -> Self {
        match p {
            config::WindowPool::Mean => model::WindowPool::Mean,
            config::WindowPool::Max => model::WindowPool::Max,
        }
    }
}

impl From<config::Pooling> for model::Pooling {
    fn from(p: config::Pooling) -> Self {
        match p {
            config::Pooling::Cls => model::Pooling::Cls,
            config::Pooling::Mean => model::Pooling::Mean,
            config::Pooling::Last => model::Pooling::Last,
        }
    }
}

impl From<config::OptimizerKind> for train::OptimizerKind {
    fn from(k: config::OptimizerKind) -> Self {
        match k {
            config::OptimizerKind::Adamw => train::OptimizerKind::AdamW,
            config::OptimizerKind::Sgd => train::OptimizerKind::Sgd,
        }
    }
}

impl From<config::Schedule> for train::Schedule {
    fn from(s: config::Schedule) -> Self {
        match s {
            config::Schedule::Linear => train::Schedule::Linear,
            config::Schedule::Cosine => train::Schedule::Cosine,
            config::Schedule::Constant => train::Schedule::Constant,
        }
    }
}

/// The encoder an experiment's `[encoder]` and `[embeddings]` describe, for a vocabulary.
pub fn encoder_spec(
    enc: &EncoderConfig,
    emb: &EmbeddingsConfig,
    vocab: usize,
    causal: bool,
) -> EncoderSpec {
    EncoderSpec {
        vocab,
        d_model: enc.d_model,
        heads: enc.heads,
        ffn: enc.ffn,
        depth: enc.depth,
        max_len: enc.max_len,
        dropout: enc.dropout,
        activation: enc.activation.into(),
        norm: enc.norm.into(),
        word: emb.word.into(),
        position: emb.position.into(),
        segment: emb.segment,
        causal,
        ln_eps: 1e-12,
        tie_output: true,
        masked_packing: false,
    }
}

/// The optimizer of a stage that trains for `total_steps`.
pub fn optim_spec(o: &OptimizerConfig, total_steps: u64) -> OptimSpec {
    let mut s = OptimSpec::adamw(o.lr, total_steps);
    s.kind = o.kind.into();
    s.warmup = o.warmup;
    s.weight_decay = o.weight_decay;
    s.momentum = o.momentum;
    s.clip_norm = o.clip_norm;
    s.schedule = o.schedule.into();
    s
}
