//! The epoch loop of a downstream stage: shuffled epochs over fixed batches, dev accuracy after
//! each, early stopping, the best epoch's parameters kept, periodic checkpoints from which an
//! interrupted loop resumes; and the test pass.

use super::epoch_checkpoint::{self, Point, Position};
use super::inputs::StepInputs;
use super::progress::{Progress, curve_every};
use super::trainer::Trainer;
use crate::data::IGNORE_INDEX;
use crate::metrics::{SpanCounts, accuracy_macro_f1};
use crate::runtime::ParamStore;
use anyhow::{Context, Result};
use rand::seq::SliceRandom;
use std::cell::RefCell;
use std::path::Path;

/// Appends (gold, predicted) label pairs of one batch, given the evaluation graph's logits.
pub type PairFn<'a> =
    dyn Fn(&crate::graph::Tensor, &StepInputs, &mut Vec<(i64, i64)>) -> Result<()> + 'a;

/// Scores a whole split from the evaluation graph's logits of each of its batches, in order
/// (extractive QA: exact match over examples whose windows span several batches).
pub type SplitScoreFn<'a> = dyn Fn(&[crate::graph::Tensor]) -> f64 + 'a;

/// How predictions are scored: the pairs of a batch, and the number of classes; or, with
/// `split_score`, one score of the whole dev split, named `metric` (else accuracy over pairs).
pub struct Scoring<'a> {
    pub pairs_of: &'a PairFn<'a>,
    pub classes: usize,
    pub split_score: Option<(&'static str, &'a SplitScoreFn<'a>)>,
}

/// How long an epoch loop runs, and where it checkpoints.
#[derive(Debug, Clone, Copy)]
pub struct EpochLoop<'a> {
    pub epochs: u32,
    /// Epochs without a better dev accuracy before stopping; 0 never stops early.
    pub patience: u32,
    /// The periodic checkpoint (see [`super::epoch_checkpoint`]), written every
    /// [`checkpoint_every`] steps (after the dev evaluation when that step ends an epoch; not at
    /// the end), and resumed from when present; `None`: no checkpoints (loops cheap enough to
    /// recompute).
    pub checkpoint: Option<&'a Path>,
}

/// Every how many steps an epoch loop checkpoints (about 10 per loop, at least 100 steps apart,
/// like pretraining: a loop of fewer steps is cheap to rerun, and a rerun with dropout is then
/// still exact, since dropout masks restart with a new session).
fn checkpoint_every(total: u64) -> u64 {
    (total / 10).max(100)
}

/// What an epoch loop leaves: the parameters of the best dev epoch (the last without dev batches).
pub struct Fitted {
    pub params: ParamStore,
    /// The last training step's loss.
    pub train_loss: f64,
    /// The best epoch's dev score and the metric it is (accuracy, or the scoring's split
    /// score); none without dev batches.
    pub dev_score: Option<(&'static str, f64)>,
}

/// Passes a loop's reports on and keeps its curve points for the checkpoint.
struct Recorded<'a> {
    inner: &'a dyn Progress,
    points: RefCell<Vec<Point>>,
}

impl Progress for Recorded<'_> {
    fn step(&self, step: u64, total: u64, loss: f64) {
        self.inner.step(step, total, loss);
    }

    fn point(&self, split: &str, metric: &str, step: u64, value: f64) {
        self.inner.point(split, metric, step, value);
        self.points
            .borrow_mut()
            .push((split.to_string(), metric.to_string(), step, value));
    }
}

/// Trains for the configured epochs with early stopping on dev accuracy. With a checkpoint it
/// first resumes from it, if there is one: the epoch orders are reshuffled from `rng`'s start
/// and the batches already trained skipped, so a resumed loop trains the same batches in the
/// same order as an uninterrupted one (the same result, exactly, without dropout: dropout masks
/// restart with a new session).
pub fn fit_epochs(
    tr: &mut Trainer,
    train_b: &[StepInputs],
    dev_b: &[StepInputs],
    schedule: EpochLoop,
    rng: &mut impl rand::Rng,
    progress: &dyn Progress,
    scoring: &Scoring,
) -> Result<Fitted> {
    let total = train_b.len() as u64 * schedule.epochs as u64;
    let progress = Recorded {
        inner: progress,
        points: RefCell::default(),
    };
    let mut best: Option<(f64, ParamStore)> = None;
    let metric = dev_metric(scoring);
    let mut at = Position {
        epoch: 0,
        done: 0,
        batches: train_b.len(),
        last_loss: f64::NAN,
        since_best: 0,
    };
    if let Some(path) = schedule.checkpoint
        && let Some(r) = epoch_checkpoint::load(path, tr, train_b.len())?
    {
        eprintln!(
            "resuming from step {} of {total}, epoch {} ({})",
            tr.opt.step,
            r.at.epoch + 1,
            path.display()
        );
        for (split, metric, step, value) in &r.points {
            progress.point(split, metric, *step, *value);
        }
        (at, best) = (r.at, r.best);
    }
    let every = checkpoint_every(total);
    let resumed = at.epoch;
    let mut order: Vec<usize> = (0..train_b.len()).collect();
    for epoch in 0..schedule.epochs {
        order.shuffle(rng);
        if epoch < resumed {
            continue; // replayed only for the order of the epochs after it
        }
        at.epoch = epoch;
        for (n, &i) in order.iter().enumerate().skip(at.done) {
            let s = tr
                .step(&train_b[i])
                .with_context(|| format!("epoch {}", epoch + 1))?;
            at.last_loss = s.loss;
            at.done = n + 1;
            progress.step(tr.opt.step, total, s.loss);
            if tr.opt.step.is_multiple_of(curve_every(total)) {
                progress.point("train", "loss", tr.opt.step, s.loss);
            }
            if let Some(path) = schedule.checkpoint
                && tr.opt.step.is_multiple_of(every)
                && at.done < order.len()
            {
                epoch_checkpoint::save(path, tr, &at, best.as_ref(), &progress.points.borrow())?;
            }
        }
        at.done = 0;
        if !dev_b.is_empty() {
            let (metric, acc) = dev_score(tr, dev_b, scoring)?;
            progress.point("dev", metric, tr.opt.step, acc);
            if best.as_ref().is_none_or(|(b, _)| acc > *b) {
                best = Some((acc, tr.params.clone()));
                at.since_best = 0;
            } else {
                at.since_best += 1;
                if schedule.patience > 0 && at.since_best >= schedule.patience {
                    break;
                }
            }
        }
        if let Some(path) = schedule.checkpoint
            && tr.opt.step.is_multiple_of(every)
            && epoch + 1 < schedule.epochs
        {
            at.epoch = epoch + 1;
            epoch_checkpoint::save(path, tr, &at, best.as_ref(), &progress.points.borrow())?;
        }
    }
    Ok(match best {
        Some((score, params)) => Fitted {
            params,
            train_loss: at.last_loss,
            dev_score: Some((metric, score)),
        },
        None => Fitted {
            params: tr.params.clone(),
            train_loss: at.last_loss,
            dev_score: None,
        },
    })
}

/// The name of the dev score that picks the best epoch.
fn dev_metric(scoring: &Scoring) -> &'static str {
    scoring.split_score.map_or("accuracy", |(metric, _)| metric)
}

/// The dev score that picks the best epoch: accuracy over the batches' pairs, or the split
/// score.
fn dev_score(
    tr: &mut Trainer,
    dev_b: &[StepInputs],
    scoring: &Scoring,
) -> Result<(&'static str, f64)> {
    if let Some((metric, score)) = scoring.split_score {
        let mut all = Vec::with_capacity(dev_b.len());
        for batch in dev_b {
            all.push(tr.evaluate(batch)?.1);
        }
        return Ok((metric, score(&all)));
    }
    let mut pairs = Vec::new();
    for batch in dev_b {
        let (_, logits) = tr.evaluate(batch)?;
        (scoring.pairs_of)(&logits, batch, &mut pairs)?;
    }
    Ok(("accuracy", accuracy_macro_f1(&pairs, scoring.classes).0))
}

/// Test figures of a trained model.
pub struct TestScores {
    pub accuracy: f64,
    pub macro_f1: f64,
    /// Mean of the batches' losses.
    pub loss: f64,
    /// Span counts of tagging runs.
    pub spans: Option<SpanCounts>,
}

/// How a tagging run's test spans are read.
#[derive(Debug, Clone, Copy)]
pub struct TagScoring<'a> {
    /// The tag names, in the order of the head's outputs.
    pub names: &'a [String],
    /// The batches' row length.
    pub seq: usize,
    /// The example of each row of the split, in order (rows past its end are padding): the
    /// windows of one long example are read as one sequence. `None`: every row is an example.
    pub row_examples: Option<&'a [usize]>,
}

/// Test metrics: accuracy and macro-F1 over labels (tokens, for tagging), the loss, and for
/// tagging span counts with conlleval semantics.
pub fn test_scores(
    tr: &mut Trainer,
    test_b: &[StepInputs],
    scoring: &Scoring,
    tags: Option<TagScoring>,
) -> Result<TestScores> {
    let mut pairs = Vec::new();
    let mut loss = 0.0;
    let mut spans = SpanCounts::default();
    // The labelled (gold, predicted) tags of the example being read, and its index.
    let mut open: (Option<usize>, Vec<(i64, i64)>) = (None, Vec::new());
    let mut row = 0;
    let close = |open: &mut (Option<usize>, Vec<(i64, i64)>), spans: &mut SpanCounts| {
        if let Some(t) = &tags {
            let name = |i: i64| t.names.get(i as usize).map(String::as_str).unwrap_or("O");
            let g: Vec<&str> = open.1.iter().map(|(g, _)| name(*g)).collect();
            let p: Vec<&str> = open.1.iter().map(|(_, p)| name(*p)).collect();
            spans.add(&g, &p);
        }
        open.1.clear();
    };
    for batch in test_b {
        let (l, logits) = tr.evaluate(batch)?;
        loss += l;
        let from = pairs.len();
        (scoring.pairs_of)(&logits, batch, &mut pairs)?;
        if let Some(t) = &tags {
            // Rows of `seq` positions; spans are read from the labelled positions of each
            // example's rows.
            for r in pairs[from..].chunks(t.seq) {
                let example = match t.row_examples {
                    Some(ex) => ex.get(row).copied(),
                    None => Some(row),
                };
                if example != open.0 || t.row_examples.is_none() {
                    close(&mut open, &mut spans);
                    open.0 = example;
                }
                open.1
                    .extend(r.iter().filter(|(g, _)| *g != IGNORE_INDEX).copied());
                row += 1;
            }
        }
    }
    close(&mut open, &mut spans);
    let (accuracy, macro_f1) = accuracy_macro_f1(&pairs, scoring.classes);
    Ok(TestScores {
        accuracy,
        macro_f1,
        loss: loss / test_b.len() as f64,
        spans: tags.is_some().then_some(spans),
    })
}
