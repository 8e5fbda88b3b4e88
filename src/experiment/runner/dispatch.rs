//! One stage executed into the store: its temporary folder, the call into the executor of its
//! kind, the commit of its outputs, and the events that tell the grid's consumers about it
//! (started, training progress, finished or failed).

use super::super::plan::{Plan, StageKind, StagePlan};
use super::super::stage::{self, Metrics, StageContext};
use super::options::RunOptions;
use super::store::{
    CurvePoint, commit_stage, explain_failure, partial_dir, remove_stale_tmp, stage_dir, tmp_dir,
};
use crate::report::event::Event;
use crate::train::Progress;
use anyhow::{Context, Result};
use std::cell::RefCell;
use std::path::Path;

/// Where a stage's events go (the grid's consumers).
pub(super) type Emit<'e> = &'e dyn Fn(&Event<'_>);

/// What a stage reports: its training progress becomes events; learning-curve points are kept
/// for the stage's curves.csv.
struct StageProgress<'e> {
    key: &'e str,
    emit: Emit<'e>,
    points: RefCell<Vec<CurvePoint>>,
}

impl Progress for StageProgress<'_> {
    fn point(&self, split: &str, metric: &str, step: u64, value: f64) {
        self.points
            .borrow_mut()
            .push((split.to_string(), metric.to_string(), step, value));
    }

    fn step(&self, step: u64, total: u64, loss: f64) {
        (self.emit)(&Event::StageProgress {
            key: self.key,
            step,
            total,
            loss,
        });
    }
}

/// Executes one stage into a temporary directory renamed into place on success.
pub(super) fn run_stage(
    plan: &Plan,
    stage: &StagePlan,
    options: &RunOptions,
    emit: Emit<'_>,
) -> Result<Metrics> {
    let out = &options.out_dir;
    let key = stage.key.as_str();
    let dir = stage_dir(out, key);
    let tmp = tmp_dir(out, key);
    remove_stale_tmp(out, key)?;
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let resume = partial_dir(out, key);
    // Created only when a stage writes a checkpoint there (save_checkpoint makes the folder).
    if options.fresh && resume.exists() {
        std::fs::remove_dir_all(&resume)?;
    }
    // A stage of one run (a downstream stage) names the run: with --jobs several run at once.
    let label = match stage.runs.as_slice() {
        [run] => format!("{} ({run})", stage.label),
        _ => stage.label.clone(),
    };
    emit(&Event::StageStarted { key, label: &label });
    let failed = |e: &anyhow::Error| {
        emit(&Event::StageFailed {
            key,
            error: &format!("{e:#}"),
        })
    };
    let progress = StageProgress {
        key,
        emit,
        points: Default::default(),
    };
    let metrics = match execute_stage(plan, stage, options, &tmp, &resume, &progress) {
        Ok(m) => m,
        Err(e) => {
            let e = explain_failure(e, &dir, &tmp);
            failed(&e);
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    if let Err(e) = commit_stage(&tmp, &dir, &resume, &metrics, &progress.points.borrow()) {
        failed(&e);
        return Err(e);
    }
    emit(&Event::StageFinished { key });
    Ok(metrics)
}

/// Calls the executor of the stage's kind, which writes the stage's files into `tmp`.
fn execute_stage(
    plan: &Plan,
    stage: &StagePlan,
    options: &RunOptions,
    tmp: &Path,
    resume: &Path,
    progress: &StageProgress,
) -> Result<Metrics> {
    let out = &options.out_dir;
    let threads = options.threads;
    // `embeddings.word = "static"`: the table its vectors parent trained.
    let vectors = stage
        .parents
        .iter()
        .find(|k| plan.stage(k).is_some_and(|p| p.kind == StageKind::Vectors))
        .map(|k| stage::load_static_vectors(&stage_dir(out, k)))
        .transpose()?;
    let stages = out.join(".stages");
    let kind = match stage.kind {
        StageKind::Tokenizer => "tokenizer",
        StageKind::Vectors => "vectors",
        StageKind::Pretrain => "pretrain",
        StageKind::Downstream => "downstream",
        StageKind::Baseline => "baseline",
    };
    let stem = format!("{kind}_{}", stage.name);
    let ctx = StageContext {
        plan,
        stages: &stages,
        dir: tmp,
        resume_dir: resume,
        threads,
        vectors: vectors.as_deref(),
        stem: &stem,
        progress,
    };
    stage::compute_stage(&stage.config, &ctx)
}
