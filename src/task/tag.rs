//! `task = "tag"`: one tag per word of the text (the label column holds space-separated BIO
//! tags), one prediction per token, scored per token and by conlleval spans.

use super::{Target, TaskMetrics, WindowRule};
use crate::baseline::BowTask;
use crate::config::LongInputs;
use crate::data::{self, Dataset, Example, Item, Tok};
use crate::metrics::Metric;
use crate::model::TaskHead;
use anyhow::Result;

pub(super) const NAME: &str = "tag";
pub(super) const TARGET: Target = Target::Tags;
pub(super) const NEEDS_TEXT_PAIR: bool = false;
pub(super) const DEFAULT_LONG: LongInputs = LongInputs::Truncate;
pub(super) const WINDOWS: WindowRule = WindowRule::PerRow;
pub(super) const METRICS: TaskMetrics = TaskMetrics {
    dev: Metric::Accuracy,
    test: &[
        Metric::Accuracy,
        Metric::MacroF1,
        Metric::Loss,
        Metric::SpanF1,
        Metric::SpanPrecision,
        Metric::SpanRecall,
    ],
};
/// The bag-of-words baseline's mode.
pub(super) const BASELINE: Option<BowTask> = Some(BowTask::Tag);
/// Named by the dataset's labels.
pub(super) const FIXED_OUTPUTS: Option<&[&str]> = None;

pub(super) fn label_set(ds: &Dataset) -> Vec<String> {
    ds.tag_labels()
}

pub(super) fn label_names(ds: &Dataset) -> Result<Vec<String>> {
    ds.check_tagging("downstream data")?;
    Ok(label_set(ds))
}

pub(super) fn items(xs: &[Example], tok: &Tok, labels: &[String]) -> Result<Vec<Item>> {
    Ok(data::tag_items(xs, tok, labels)?)
}

pub(super) fn head(classes: usize) -> TaskHead {
    TaskHead::Tag { classes }
}
