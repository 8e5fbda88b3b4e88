//! The one entry point that computes a stage of any kind: the plan's stage configuration to the
//! stage kind's file.

use super::{Metrics, StageContext, baseline, downstream, pretrain, tokenizer, vectors};
use crate::experiment::plan::{Plan, StageConfig};
use anyhow::Result;

/// Computes one stage into `ctx.dir` and returns its metrics.
pub fn compute_stage(config: &StageConfig, ctx: &StageContext) -> Result<Metrics> {
    match config {
        StageConfig::Tokenizer { tokenizer, fit_on } => {
            tokenizer::fit_tokenizer(tokenizer, fit_on, ctx.dir)
        }
        StageConfig::Vectors {
            tokenizer,
            fit_on,
            dim,
            vectors,
        } => vectors::train_static_vectors(&ctx.stage_dir(tokenizer), fit_on, *dim, vectors, ctx),
        StageConfig::Pretrain {
            pretrain,
            encoder,
            embeddings,
            data,
            seed,
            tokenizer,
            previous,
        } => pretrain::pretrain(
            &pretrain::PretrainStage {
                pretrain,
                encoder,
                embeddings,
                data,
                seed: *seed,
                tokenizer_dir: &ctx.stage_dir(tokenizer),
                previous: previous.as_deref().map(|k| ctx.stage_dir(k)).as_deref(),
            },
            ctx,
        ),
        StageConfig::Downstream {
            downstream,
            encoder,
            embeddings,
            data,
            seed,
            tokenizer,
            pretrained,
        } => downstream::train_downstream(
            &downstream::DownstreamStage {
                downstream,
                encoder,
                embeddings,
                data,
                seed: *seed,
                tokenizer_dir: &ctx.stage_dir(tokenizer),
                pretrained: pretrained.as_deref().map(|k| ctx.stage_dir(k)).as_deref(),
                causal: pretrained_is_causal(ctx.plan, pretrained.as_deref()),
            },
            ctx,
        ),
        StageConfig::Baseline { task, data } => baseline::fit_baseline(*task, data, ctx),
    }
}

/// Whether the pretraining stage `key` trained a causal LM (its attention stays causal after).
pub fn pretrained_is_causal(plan: &Plan, key: Option<&str>) -> bool {
    key.and_then(|k| plan.stage(k)).is_some_and(|s| {
        matches!(&s.config, StageConfig::Pretrain { pretrain, .. }
            if pretrain.task == crate::config::PretrainTask::Clm)
    })
}
