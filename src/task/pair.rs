//! `task = "pair"`: two texts (the dataset's `text` and `text_pair`, segments A and B), one
//! label, from the encoder's pooled features.

use super::{Target, TaskMetrics, WindowRule};
use crate::baseline::BowTask;
use crate::config::LongInputs;
use crate::data::{self, Dataset, Example, Item, Tok};
use crate::model::{Pooling, TaskHead, WindowPool};
use anyhow::{Result, bail};

pub(super) const NAME: &str = "pair";
pub(super) const TARGET: Target = Target::Class;
pub(super) const NEEDS_TEXT_PAIR: bool = true;
pub(super) const DEFAULT_LONG: LongInputs = LongInputs::Truncate;
pub(super) const WINDOWS: WindowRule = WindowRule::Pooled;
pub(super) const METRICS: TaskMetrics = TaskMetrics {
    dev: "accuracy",
    test: &["accuracy", "macro_f1", "loss"],
};
/// The bag-of-words baseline's mode.
pub(super) const BASELINE: Option<BowTask> = Some(BowTask::Pair);
/// Named by the dataset's labels.
pub(super) const FIXED_OUTPUTS: Option<&[&str]> = None;

pub(super) fn label_set(ds: &Dataset) -> Vec<String> {
    ds.labels.clone()
}

pub(super) fn label_names(ds: &Dataset) -> Result<Vec<String>> {
    if ds.train.iter().any(|e| e.text_pair.is_none()) {
        bail!("a pair task needs a text_pair column");
    }
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
