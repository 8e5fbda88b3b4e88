//! The cost model: parameters, steps, tokens and FLOPs of a stage, and the time they take at an
//! assumed throughput. Rough by design: it ranks plans and warns of large ones.
//!
//! Estimates are computed in f64 so that absurd sizes saturate instead of overflowing.

use crate::config::{
    DownstreamConfig, EncoderConfig, Experiment, PretrainConfig, PretrainTask, Transfer,
};
use serde::Serialize;

/// Effective training throughput the estimates assume, in GFLOP/s. Calibrated on ARCHITECTURE §6's
/// measured BERT-mini MLM step (~12 GFLOP counted as below, in 97 ms on the development CPU).
pub const EFFECTIVE_GFLOPS: f64 = 100.0;
/// Fixed cost of a stage (session creation, data loading), in seconds.
pub const STAGE_OVERHEAD_SECONDS: f64 = 2.0;
/// Estimated time to fit a tokenizer, in seconds.
pub const TOKENIZER_SECONDS: f64 = 5.0;
/// Seconds per embedding dimension assumed for a static-vectors stage (skip-gram on a corpus of
/// the KJV's size takes on the order of a minute at d 128 on 2 cores).
pub const VECTORS_SECONDS_PER_DIM: f64 = 0.5;
/// Seconds per train example assumed for a bag-of-words baseline (TF-IDF and five logistic
/// regressions; a tagging baseline only counts and is far quicker). Measured: 1,000 supersense
/// examples (45 classes, 3,275 features) took 34 s (`train_seconds`, transfer.toml, 2 cores
/// shared with compilers at low priority); 2,000 took 778 s at nice 19 on a machine loaded by
/// other builds (`it::baseline`), which says more about the load than the fit.
pub const BASELINE_SECONDS_PER_EXAMPLE: f64 = 0.05;
/// Training examples assumed for a dataset whose size the plan cannot know (no `max_train`).
pub const ASSUMED_TRAIN_EXAMPLES: u64 = 10_000;

/// A rough cost: parameters, work and time at [`EFFECTIVE_GFLOPS`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CostEstimate {
    pub params: u64,
    pub steps: u64,
    pub tokens_per_step: u64,
    pub gflop: f64,
    pub seconds: f64,
}

/// Parameters of the embeddings and the encoder.
fn model_params(exp: &Experiment) -> f64 {
    exp.encoder
        .params(exp.tokenizer.vocab_size, &exp.embeddings)
}

/// Forward FLOPs per token of the encoder at `seq_len` (matmuls plus attention scores).
fn encoder_flops_per_token(e: &EncoderConfig, seq_len: usize) -> f64 {
    let attention = 4.0 * seq_len as f64 * e.d_model as f64;
    e.depth as f64 * (2.0 * e.layer_params() + attention)
}

fn cost(params: f64, steps: f64, tokens_per_step: f64, gflop: f64) -> CostEstimate {
    // `as` from f64 saturates.
    CostEstimate {
        params: params as u64,
        steps: steps as u64,
        tokens_per_step: tokens_per_step as u64,
        gflop,
        seconds: STAGE_OVERHEAD_SECONDS + gflop / EFFECTIVE_GFLOPS,
    }
}

/// Fitting a tokenizer: a fixed time.
pub(super) fn tokenizer_cost() -> CostEstimate {
    CostEstimate {
        seconds: TOKENIZER_SECONDS,
        ..CostEstimate::default()
    }
}

/// Static word vectors: a few passes of skip-gram over the tokenizer's texts.
pub(super) fn vectors_cost(dim: usize) -> CostEstimate {
    CostEstimate {
        params: 0,
        seconds: VECTORS_SECONDS_PER_DIM * dim as f64,
        ..CostEstimate::default()
    }
}

pub(super) fn pretrain_cost(exp: &Experiment, p: &PretrainConfig) -> CostEstimate {
    let params = model_params(exp);
    if p.task == PretrainTask::Import {
        return cost(params, 0.0, 0.0, 0.0);
    }
    let tokens = p.batch_size as f64 * p.seq_len as f64;
    let vocab_head = 2.0 * exp.tokenizer.vocab_size as f64 * exp.encoder.d_model as f64;
    // Language-model heads project onto the vocabulary: MLM at masked positions, CLM everywhere.
    let head = match p.task {
        PretrainTask::Mlm => vocab_head * p.mask_prob,
        PretrainTask::Clm => vocab_head,
        // Sentence-pair and classification heads are small; an import trains nothing.
        PretrainTask::Nsp | PretrainTask::Sop | PretrainTask::Classify | PretrainTask::Import => {
            0.0
        }
    };
    let forward = encoder_flops_per_token(&exp.encoder, p.seq_len) + head;
    let steps = p.steps as f64;
    // Backward costs about twice the forward pass.
    let gflop = 3.0 * forward * tokens * steps / 1e9;
    cost(params, steps, tokens, gflop)
}

/// A bag-of-words baseline: no encoder, time in proportion to the train examples.
pub(super) fn baseline_cost(exp: &Experiment, d: &DownstreamConfig) -> CostEstimate {
    let examples = train_examples(exp, d);
    CostEstimate {
        seconds: STAGE_OVERHEAD_SECONDS + BASELINE_SECONDS_PER_EXAMPLE * examples,
        ..CostEstimate::default()
    }
}

/// Train examples of a downstream stage's dataset: its `max_train`, else an assumed size.
fn train_examples(exp: &Experiment, d: &DownstreamConfig) -> f64 {
    exp.dataset
        .get(&d.data)
        .and_then(|ds| ds.filter.max_train)
        .map_or(ASSUMED_TRAIN_EXAMPLES as f64, |n| n as f64)
}

pub(super) fn downstream_cost(exp: &Experiment, d: &DownstreamConfig) -> CostEstimate {
    let params = model_params(exp);
    let examples = train_examples(exp, d);
    let steps = (examples / d.batch_size.max(1) as f64).ceil() * d.epochs as f64;
    let tokens = d.batch_size as f64 * d.seq_len as f64;
    let forward = encoder_flops_per_token(&exp.encoder, d.seq_len);
    // Frozen: the encoder runs forward once per example, then only the head trains.
    let extract = forward * examples * d.seq_len as f64 / 1e9;
    let train = 3.0 * forward * tokens * steps / 1e9;
    let gflop = match d.transfer {
        Transfer::Frozen => extract,
        Transfer::Scratch | Transfer::Finetune => train,
        // The probe on features computed once, then the fine-tuning.
        Transfer::LpFt => extract + train,
    };
    cost(params, steps, tokens, gflop)
}
