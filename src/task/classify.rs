//! `task = "classify"`: one text, one label, from the encoder's pooled features.

use super::{Target, TaskMetrics, WindowRule};
use crate::baseline::BowTask;
use crate::config::LongInputs;
use crate::data::{self, Dataset, Example, Item, Tok};
use crate::metrics::Metric;
use crate::model::{Pooling, TaskHead, WindowPool};
use anyhow::Result;

pub(super) const NAME: &str = "classify";
pub(super) const TARGET: Target = Target::Class;
pub(super) const NEEDS_TEXT_PAIR: bool = false;
pub(super) const DEFAULT_LONG: LongInputs = LongInputs::Truncate;
pub(super) const WINDOWS: WindowRule = WindowRule::Pooled;
pub(super) const METRICS: TaskMetrics = TaskMetrics {
    dev: Metric::Accuracy,
    test: &[Metric::Accuracy, Metric::MacroF1, Metric::Loss],
};
/// The bag-of-words baseline's mode.
pub(super) const BASELINE: Option<BowTask> = Some(BowTask::Classify);
/// Named by the dataset's labels.
pub(super) const FIXED_OUTPUTS: Option<&[&str]> = None;

pub(super) fn label_set(ds: &Dataset) -> Vec<String> {
    ds.labels.clone()
}

pub(super) fn label_names(ds: &Dataset) -> Result<Vec<String>> {
    Ok(label_set(ds))
}

pub(super) fn items(xs: &[Example], tok: &Tok, labels: &[String]) -> Result<Vec<Item>> {
    Ok(data::class_items(xs, tok, labels)?)
}

pub(super) fn head(classes: usize, pooling: Pooling, windows: Option<WindowPool>) -> TaskHead {
    TaskHead::Classify {
        classes,
        pooling,
        windows,
    }
}
