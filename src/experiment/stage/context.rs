//! What every stage needs besides its own configuration, and the one entry point that computes
//! a stage of any kind.

use super::{baseline, downstream, pretrain, tokenizer, vectors};
use crate::experiment::plan::{Plan, StageConfig};
use crate::runtime::SessionOptions;
use crate::train::Progress;
use anyhow::Result;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Metrics of a stage, by name (`test_accuracy`, `pretrain_loss`, `data.kjv.kept`, ...).
pub type Metrics = BTreeMap<String, f64>;

/// The environment a stage is computed in.
pub struct StageContext<'a> {
    /// The plan the stage belongs to (to look up the stages it reads).
    pub plan: &'a Plan,
    /// The folder holding every finished stage by key (`<results>/.stages`).
    pub stages: &'a Path,
    /// Where this stage writes its outputs; the caller renames it into place on success.
    pub dir: &'a Path,
    /// Where a long stage keeps its periodic checkpoint until it completes.
    pub resume_dir: &'a Path,
    /// Intra-op threads for ONNX Runtime; every core when `None`.
    pub threads: Option<usize>,
    /// Static word vectors (`embeddings.word = "static"`), `[vocab, d_model]`, from the stage's
    /// vectors parent.
    pub vectors: Option<&'a [f32]>,
    /// `<kind>_<name>` (`pretrain_A`): the stem of the files its graphs are dumped to.
    pub stem: &'a str,
    pub progress: &'a dyn Progress,
}

impl StageContext<'_> {
    /// The folder of the finished stage `key`.
    pub fn stage_dir(&self, key: &str) -> PathBuf {
        self.stages.join(key)
    }

    /// Session options with this stage's intra-op threads.
    pub fn session_options(&self) -> SessionOptions {
        SessionOptions {
            intra_threads: Some(thread_count(self.threads)),
            ..Default::default()
        }
    }
}

/// Intra-op threads: the experiment's `threads`, else every core the process may use.
pub fn thread_count(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    })
}

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
