//! The step loop of a pretraining stage: a fixed number of optimizer steps over seeded batches,
//! with periodic dev evaluation and checkpoints from which an interrupted stage resumes.

use super::inputs::StepInputs;
use super::progress::{Progress, curve_every};
use super::trainer::Trainer;
use crate::data::{self, Batcher, IGNORE_INDEX, derive_seed};
use crate::metrics::argmax_rows;
use crate::model::Input;
use crate::runtime;
use anyhow::{Context, Result};
use std::path::Path;

/// Every how many steps a pretraining stage checkpoints (about 10 per stage, at least 100 steps apart).
fn checkpoint_every(total: u64) -> u64 {
    (total / 10).max(100)
}

/// How a step loop runs.
pub struct StepLoop<'a> {
    pub steps: u64,
    pub seed: u64,
    /// The periodic checkpoint (parameters, optimizer state, step); resumed from when present.
    pub checkpoint: &'a Path,
    /// Fixed dev batches, evaluated at every checkpoint and at the end.
    pub dev: &'a [StepInputs],
    pub progress: &'a dyn Progress,
}

/// What a step loop measured.
pub struct StepLoopResult {
    /// Exponential moving average (0.98) of the training loss.
    pub loss_ema: f64,
    /// Token-weighted dev loss and accuracy after the last step (none without dev batches).
    pub dev: Option<(f64, f64)>,
    /// Steps this call ran (fewer than `steps` after a resume).
    pub steps_run: u64,
    /// Seconds those steps took (batch preparation and the steps; not evaluation or checkpoints).
    pub step_seconds: f64,
}

/// Runs `cfg.steps` optimizer steps over `batcher`'s epochs; `feeds_for(batch, mask_seed)` turns
/// a data batch into the graph's inputs. Batches and masks are seeded by the step, so a resumed
/// loop replays exactly the batches it skips.
pub fn run_steps(
    tr: &mut Trainer,
    batcher: &Batcher,
    feeds_for: &dyn Fn(data::Batch, u64) -> Result<StepInputs>,
    cfg: &StepLoop,
) -> Result<StepLoopResult> {
    let mut ema = f64::NAN;
    // Resume from the last periodic checkpoint of an interrupted attempt, if there is one.
    let mut resumed_at = 0;
    if cfg.checkpoint.exists() {
        let ck = runtime::load_checkpoint(cfg.checkpoint)?;
        if let (Some(opt), Some(at)) = (ck.opt, ck.meta.get("step").and_then(|v| v.as_u64())) {
            tr.params = ck.params;
            tr.opt = opt;
            ema = ck
                .meta
                .get("loss_ema")
                .and_then(|v| v.as_f64())
                .unwrap_or(f64::NAN);
            resumed_at = at;
            eprintln!(
                "resuming from step {at} of {} ({})",
                cfg.steps,
                cfg.checkpoint.display()
            );
        }
    }
    let every = checkpoint_every(cfg.steps);
    let mut step = 0;
    let (mut steps_run, mut step_seconds) = (0, 0.0);
    'epochs: for epoch in 0.. {
        for batch in batcher.epoch(epoch) {
            step += 1;
            if step > cfg.steps {
                break 'epochs;
            }
            if step <= resumed_at {
                continue; // the batch order and masks are seeded, so skipping replays them
            }
            let t0 = std::time::Instant::now();
            let feeds = feeds_for(batch, derive_seed(cfg.seed, &[step]))?;
            let s = tr
                .step(&feeds)
                .with_context(|| format!("pretraining step {step}"))?;
            step_seconds += t0.elapsed().as_secs_f64();
            steps_run += 1;
            ema = if ema.is_nan() {
                s.loss
            } else {
                0.98 * ema + 0.02 * s.loss
            };
            cfg.progress.step(step, cfg.steps, s.loss);
            if step % curve_every(cfg.steps) == 0 {
                cfg.progress.point("train", "loss", step, s.loss);
            }
            if step % every == 0 && step < cfg.steps {
                if let Some((loss, acc)) = dev_loss_accuracy(tr, cfg.dev)? {
                    cfg.progress.point("dev", "loss", step, loss);
                    cfg.progress.point("dev", "accuracy", step, acc);
                }
                let mut meta = runtime::Metadata::new();
                meta.insert("step".into(), serde_json::json!(step));
                meta.insert("loss_ema".into(), serde_json::json!(ema));
                runtime::save_checkpoint(cfg.checkpoint, &tr.params, Some(&tr.opt), &meta)?;
            }
        }
    }
    let dev = dev_loss_accuracy(tr, cfg.dev)?;
    if let Some((loss, acc)) = dev {
        cfg.progress.point("dev", "loss", cfg.steps, loss);
        cfg.progress.point("dev", "accuracy", cfg.steps, acc);
    }
    Ok(StepLoopResult {
        loss_ema: ema,
        dev,
        steps_run,
        step_seconds,
    })
}

/// Token-weighted loss and accuracy of the evaluation graph over fixed dev batches; `None`
/// without any. Targets are `mlm_labels` for masked LM, else `labels`; IGNORE_INDEX is skipped.
pub fn dev_loss_accuracy(tr: &mut Trainer, batches: &[StepInputs]) -> Result<Option<(f64, f64)>> {
    let (mut loss, mut correct, mut total) = (0.0, 0usize, 0usize);
    for batch in batches {
        let (l, logits) = tr.evaluate(batch)?;
        let gold = batch
            .get(Input::MlmLabels)
            .or(batch.get(Input::Labels))
            .context("dev batch without targets")?
            .as_i64()
            .context("targets are not int64")?;
        let width = *logits.shape.last().context("logits without a shape")?;
        let pred = argmax_rows(logits.as_f32().context("logits are not f32")?, width);
        let n = gold.iter().filter(|&&g| g != IGNORE_INDEX).count();
        correct += gold
            .iter()
            .zip(&pred)
            .filter(|(g, p)| **g != IGNORE_INDEX && *g == *p)
            .count();
        loss += l * n as f64;
        total += n;
    }
    Ok((total > 0).then(|| (loss / total as f64, correct as f64 / total as f64)))
}
