//! `task = "pair"`: two texts (the dataset's `text` and `text_pair`, segments A and B), one
//! label, from the encoder's pooled features: `classify` with a second text, so everything
//! but the dataset check is classify's.

use super::classify;
use crate::baseline::BowTask;
use crate::data::Dataset;
use anyhow::{Result, bail};

pub(super) use classify::{DEFAULT_LONG, FIXED_OUTPUTS, METRICS, TARGET, WINDOWS, head, items};

pub(super) const NAME: &str = "pair";
pub(super) const NEEDS_TEXT_PAIR: bool = true;
/// The bag-of-words baseline's mode: each word marked by its side.
pub(super) const BASELINE: Option<BowTask> = Some(BowTask::Pair);

pub(super) fn label_set(ds: &Dataset) -> Vec<String> {
    classify::label_set(ds)
}

pub(super) fn label_names(ds: &Dataset) -> Result<Vec<String>> {
    if ds.train.iter().any(|e| e.text_pair.is_none()) {
        bail!("a pair task needs a text_pair column");
    }
    Ok(label_set(ds))
}
