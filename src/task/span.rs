//! `task = "span"`: extractive question answering. The question (segment A) and a window of the
//! context (segment B) in, the answer's start and end token out; read from SQuAD v1.1 JSON or a
//! span table by the span reader (`data::squad`), which windows every context itself; scored by
//! SQuAD's exact match and token F1.

use super::{Target, TaskMetrics, WindowRule};
use crate::baseline::BowTask;
use crate::config::LongInputs;
use crate::data::{Dataset, Example, Item, Tok};
use crate::metrics::Metric;
use crate::model::TaskHead;
use anyhow::{Result, bail};

pub(super) const NAME: &str = "span";
pub(super) const TARGET: Target = Target::Answer;
pub(super) const NEEDS_TEXT_PAIR: bool = false;
pub(super) const DEFAULT_LONG: LongInputs = LongInputs::Windows;
pub(super) const WINDOWS: WindowRule = WindowRule::Own;
pub(super) const METRICS: TaskMetrics = TaskMetrics {
    dev: Metric::ExactMatch,
    test: &[Metric::ExactMatch, Metric::F1, Metric::Loss],
};
/// No bag-of-words baseline: it predicts no spans.
pub(super) const BASELINE: Option<BowTask> = None;
/// The span head's two outputs per token, as exported.
pub(super) const FIXED_OUTPUTS: Option<&[&str]> = Some(&["start", "end"]);

/// No label column: the span reader reads answers.
pub(super) fn label_set(ds: &Dataset) -> Vec<String> {
    ds.labels.clone()
}

pub(super) fn label_names(_: &Dataset) -> Result<Vec<String>> {
    bail!("a span task has no labels (its answers are spans)")
}

pub(super) fn items(_: &[Example], _: &Tok, _: &[String]) -> Result<Vec<Item>> {
    bail!("span examples are windowed, not itemized")
}

pub(super) fn head() -> TaskHead {
    TaskHead::Span
}
