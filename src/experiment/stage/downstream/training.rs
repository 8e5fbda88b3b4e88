//! One downstream training, shared by both protocols: the epoch loop with early stopping on the
//! task's dev metric, the single test pass, and how predictions are scored.

use super::span::{SpanData, SpanSplit, exact_match_f1};
use super::stage::DownstreamStage;
use crate::config::DownstreamConfig;
use crate::experiment::stage::graphs::{GraphShape, Protocol};
use crate::experiment::stage::{Metrics, StageContext};
use crate::graph::Tensor;
use crate::metrics::{Metric, Split, argmax_rows};
use crate::runtime::ParamStore;
use crate::train::{self, EpochLoop, Scoring, SplitScoreFn, StepInputs, TagScoring, Trainer};
use anyhow::{Context, Result};
use std::path::Path;

/// Appends (gold, predicted) pairs of a batch from its logits.
fn eval_pairs(logits: &Tensor, batch: &StepInputs, out: &mut Vec<(i64, i64)>) -> Result<()> {
    let width = logits.shape.last().copied().unwrap_or(1);
    let pred = argmax_rows(logits.as_f32().context("logits are not f32")?, width);
    for (g, p) in batch.labels()?.iter().zip(pred) {
        out.push((*g, p));
    }
    Ok(())
}

/// Whether a linear probe is the stage's model (tested) or `lp-ft`'s first phase (not tested; its
/// metrics are named `probe_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Final,
    Probe,
}

/// One downstream training, either protocol.
pub(super) struct Training<'a> {
    pub stage: &'a DownstreamStage<'a>,
    pub ctx: &'a StageContext<'a>,
    pub shape: &'a GraphShape,
    pub protocol: Protocol,
    pub classes: usize,
    /// How a tagging task's test spans are read.
    pub tags: Option<TagScoring<'a>>,
    /// The windows and examples of an extractive QA task (scored by exact match and F1).
    pub span: Option<&'a SpanData>,
    pub max_answer_tokens: usize,
}

impl Training<'_> {
    fn rng(&self) -> rand_chacha::ChaCha8Rng {
        <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(self.stage.seed)
    }

    pub(super) fn scoring<'s>(&self, dev_em: Option<&'s SplitScoreFn<'s>>) -> Scoring<'s> {
        Scoring {
            pairs_of: &eval_pairs,
            classes: self.classes,
            split_score: dev_em.map(|f| (self.stage.downstream.task.metrics().dev.name(), f)),
        }
    }

    /// A span task's exact match and F1 on a split's batches, and its mean loss.
    fn span_scores(
        &self,
        tr: &mut Trainer,
        split: &SpanSplit,
        batches: &[StepInputs],
    ) -> Result<(f64, f64, f64)> {
        let mut logits = Vec::with_capacity(batches.len());
        let mut loss = 0.0;
        for b in batches {
            let (l, t) = tr.evaluate(b)?;
            loss += l;
            logits.push(t);
        }
        let (em, f1) = exact_match_f1(split, &logits, self.max_answer_tokens);
        Ok((em, f1, loss / batches.len().max(1) as f64))
    }

    /// Trains with early stopping and leaves the best dev epoch's parameters in `tr` (also
    /// returned); its figures go to `metrics` as `{prefix}train_loss` and `{prefix}dev_accuracy`.
    /// With `checkpoint`, the loop checkpoints there and resumes from it (see
    /// [`train::fit_epochs`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fit(
        &self,
        tr: &mut Trainer,
        train_b: &[StepInputs],
        dev_b: &[StepInputs],
        schedule: &DownstreamConfig,
        metrics: &mut Metrics,
        prefix: &str,
        checkpoint: Option<&Path>,
    ) -> Result<ParamStore> {
        let epochs = EpochLoop {
            epochs: schedule.epochs,
            patience: schedule.patience,
            checkpoint,
        };
        let max = self.max_answer_tokens;
        let dev_em = |l: &[Tensor]| {
            self.span
                .map_or(f64::NAN, |s| exact_match_f1(&s.dev, l, max).0)
        };
        let dev_em: Option<&SplitScoreFn> = self.span.is_some().then_some(&dev_em);
        let fitted = train::fit_epochs(
            tr,
            train_b,
            dev_b,
            epochs,
            &mut self.rng(),
            self.ctx.progress,
            &self.scoring(dev_em),
        )?;
        metrics.insert(format!("{prefix}train_loss"), fitted.train_loss);
        if let Some((metric, score)) = fitted.dev_score {
            metrics.insert(format!("{prefix}dev_{metric}"), score);
        }
        tr.params = fitted.params.clone();
        Ok(fitted.params)
    }

    /// Tests the parameters in `tr` once (a span task also reports its dev F1 with them).
    pub(super) fn test(
        &self,
        tr: &mut Trainer,
        dev_b: &[StepInputs],
        test_b: &[StepInputs],
        metrics: &mut Metrics,
    ) -> Result<()> {
        if let Some(sd) = self.span {
            if !dev_b.is_empty() {
                let (_, f1, _) = self.span_scores(tr, &sd.dev, dev_b)?;
                metrics.insert(named(Split::Dev, Metric::F1), f1);
            }
            let (em, f1, loss) = self.span_scores(tr, &sd.test, test_b)?;
            metrics.insert(named(Split::Test, Metric::ExactMatch), em);
            metrics.insert(named(Split::Test, Metric::F1), f1);
            metrics.insert(named(Split::Test, Metric::Loss), loss);
            return Ok(());
        }
        let scores = train::test_scores(tr, test_b, &self.scoring(None), self.tags)?;
        metrics.insert(named(Split::Test, Metric::Accuracy), scores.accuracy);
        metrics.insert(named(Split::Test, Metric::MacroF1), scores.macro_f1);
        metrics.insert(named(Split::Test, Metric::Loss), scores.loss);
        if let Some(spans) = scores.spans {
            let (p, r, f) = spans.precision_recall_f1();
            metrics.insert(named(Split::Test, Metric::SpanF1), f);
            metrics.insert(named(Split::Test, Metric::SpanPrecision), p);
            metrics.insert(named(Split::Test, Metric::SpanRecall), r);
        }
        Ok(())
    }
}

/// A metric's runs.csv name on a split (`test_accuracy`).
fn named(split: Split, metric: Metric) -> String {
    format!("{}_{}", split.name(), metric.name())
}
