//! The epoch loop of a downstream stage: shuffled epochs over fixed batches, dev accuracy after
//! each, early stopping, the best epoch's parameters kept; and the test pass.

use super::progress::{Progress, curve_every};
use super::trainer::{StepInputs, Trainer};
use crate::data::IGNORE_INDEX;
use crate::metrics::{SpanCounts, accuracy_macro_f1};
use crate::runtime::ParamStore;
use anyhow::{Context, Result};
use rand::seq::SliceRandom;

/// Appends (gold, predicted) label pairs of one batch, given the evaluation graph's logits.
pub type PairFn<'a> = dyn Fn(&crate::graph::Tensor, &StepInputs, &mut Vec<(i64, i64)>) + 'a;

/// How predictions are scored: the pairs of a batch, and the number of classes.
pub struct Scoring<'a> {
    pub pairs_of: &'a PairFn<'a>,
    pub classes: usize,
}

/// How long an epoch loop runs.
#[derive(Debug, Clone, Copy)]
pub struct EpochLoop {
    pub epochs: u32,
    /// Epochs without a better dev accuracy before stopping; 0 never stops early.
    pub patience: u32,
}

/// What an epoch loop leaves: the parameters of the best dev epoch (the last without dev batches).
pub struct Fitted {
    pub params: ParamStore,
    /// The last training step's loss.
    pub train_loss: f64,
    /// The best epoch's dev accuracy (none without dev batches).
    pub dev_accuracy: Option<f64>,
}

/// Trains for the configured epochs with early stopping on dev accuracy.
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
    let mut best: Option<(f64, ParamStore)> = None;
    let mut since_best = 0;
    let mut order: Vec<usize> = (0..train_b.len()).collect();
    let mut last_loss = f64::NAN;
    for epoch in 0..schedule.epochs {
        order.shuffle(rng);
        for &i in &order {
            let s = tr
                .step(&train_b[i])
                .with_context(|| format!("epoch {}", epoch + 1))?;
            last_loss = s.loss;
            progress.step(tr.opt.step, total, s.loss);
            if tr.opt.step.is_multiple_of(curve_every(total)) {
                progress.point("train", "loss", tr.opt.step, s.loss);
            }
        }
        if dev_b.is_empty() {
            continue;
        }
        let mut pairs = Vec::new();
        for batch in dev_b {
            let (_, logits) = tr.evaluate(batch)?;
            (scoring.pairs_of)(&logits, batch, &mut pairs);
        }
        let (acc, _) = accuracy_macro_f1(&pairs, scoring.classes);
        progress.point("dev", "accuracy", tr.opt.step, acc);
        if best.as_ref().is_none_or(|(b, _)| acc > *b) {
            best = Some((acc, tr.params.clone()));
            since_best = 0;
        } else {
            since_best += 1;
            if schedule.patience > 0 && since_best >= schedule.patience {
                break;
            }
        }
    }
    Ok(match best {
        Some((acc, params)) => Fitted {
            params,
            train_loss: last_loss,
            dev_accuracy: Some(acc),
        },
        None => Fitted {
            params: tr.params.clone(),
            train_loss: last_loss,
            dev_accuracy: None,
        },
    })
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

/// Test metrics: accuracy and macro-F1 over labels (tokens, for tagging), the loss, and for
/// tagging (`tags` = tag names and sequence length) span counts with conlleval semantics.
pub fn test_scores(
    tr: &mut Trainer,
    test_b: &[StepInputs],
    scoring: &Scoring,
    tags: Option<(&[String], usize)>,
) -> Result<TestScores> {
    let mut pairs = Vec::new();
    let mut loss = 0.0;
    let mut spans = SpanCounts::default();
    for batch in test_b {
        let (l, logits) = tr.evaluate(batch)?;
        loss += l;
        let from = pairs.len();
        (scoring.pairs_of)(&logits, batch, &mut pairs);
        if let Some((names, seq)) = tags {
            // Rows of `seq` positions; spans are read from the labelled positions of each row.
            for row in pairs[from..].chunks(seq) {
                let labelled: Vec<&(i64, i64)> =
                    row.iter().filter(|(g, _)| *g != IGNORE_INDEX).collect();
                let name = |i: i64| names.get(i as usize).map(String::as_str).unwrap_or("O");
                let g: Vec<&str> = labelled.iter().map(|(g, _)| name(*g)).collect();
                let p: Vec<&str> = labelled.iter().map(|(_, p)| name(*p)).collect();
                spans.add(&g, &p);
            }
        }
    }
    let (accuracy, macro_f1) = accuracy_macro_f1(&pairs, scoring.classes);
    Ok(TestScores {
        accuracy,
        macro_f1,
        loss: loss / test_b.len() as f64,
        spans: tags.is_some().then_some(spans),
    })
}
