//! The model a downstream stage leaves in its folder besides its metrics: every parameter it
//! predicts with (`params.safetensors`: the encoder as trained, or the pretrained one it kept
//! frozen, plus the head), what the head predicts (the task, pooling and sequence length in the
//! checkpoint's metadata; the label names in `labels.json`) and the tokenizer it was trained
//! with, so that a finished run can be exported and predicted with without retraining.
//!
//! Writing these reads the trained parameters only: no computation, no random numbers.

use super::files;
use crate::config::{DownstreamTask, Pooling};
use crate::runtime::{self, Metadata, ParamStore};
use anyhow::{Context, Result};
use std::path::Path;

/// Metadata keys of a downstream stage's `params.safetensors`.
const TASK_KEY: &str = "downstream.task";
const POOLING_KEY: &str = "downstream.pooling";
const SEQ_LEN_KEY: &str = "downstream.seq_len";

/// What the head of a saved downstream model predicts.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedHead {
    pub task: DownstreamTask,
    /// How sequence tasks pool the encoder's features (unused by tagging).
    pub pooling: Pooling,
    /// The sequence length the stage trained and tested with.
    pub seq_len: usize,
    /// The label names, in the order of the head's outputs (tag names for tagging).
    pub labels: Vec<String>,
}

/// Writes the model of a downstream stage into `dir`: `params` with `head`'s description, the
/// label names, and a copy of the tokenizer file.
pub fn save_downstream_model(
    dir: &Path,
    params: &ParamStore,
    head: &SavedHead,
    tokenizer: &Path,
) -> Result<()> {
    let mut meta = Metadata::new();
    meta.insert(TASK_KEY.into(), serde_json::to_value(head.task)?);
    meta.insert(POOLING_KEY.into(), serde_json::to_value(head.pooling)?);
    meta.insert(SEQ_LEN_KEY.into(), head.seq_len.into());
    runtime::save_checkpoint(&dir.join(files::PARAMS), params, None, &meta)?;
    let labels = dir.join(files::LABELS);
    std::fs::write(&labels, serde_json::to_string_pretty(&head.labels)? + "\n")
        .with_context(|| format!("writing {}", labels.display()))?;
    let copy = dir.join(files::TOKENIZER);
    std::fs::copy(tokenizer, &copy)
        .with_context(|| format!("copying {} to {}", tokenizer.display(), copy.display()))?;
    Ok(())
}

/// The head described in a stage folder's checkpoint metadata and `labels.json`: `None` for a
/// stage without a head (pretraining, an import).
pub fn read_saved_head(dir: &Path, meta: &Metadata) -> Result<Option<SavedHead>> {
    let Some(task) = meta.get(TASK_KEY) else {
        return Ok(None);
    };
    let params = dir.join(files::PARAMS);
    let field = |key: &str| -> Result<&serde_json::Value> {
        meta.get(key)
            .with_context(|| format!("{}: metadata '{key}' is missing", params.display()))
    };
    let task: DownstreamTask = serde_json::from_value(task.clone())
        .with_context(|| format!("{}: metadata '{TASK_KEY}'", params.display()))?;
    let pooling: Pooling = serde_json::from_value(field(POOLING_KEY)?.clone())
        .with_context(|| format!("{}: metadata '{POOLING_KEY}'", params.display()))?;
    let seq_len = field(SEQ_LEN_KEY)?.as_u64().with_context(|| {
        format!(
            "{}: metadata '{SEQ_LEN_KEY}' is not a number",
            params.display()
        )
    })? as usize;
    let path = dir.join(files::LABELS);
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let labels: Vec<String> = serde_json::from_str(&text)
        .with_context(|| format!("{}: expected a JSON list of label names", path.display()))?;
    Ok(Some(SavedHead {
        task,
        pooling,
        seq_len,
        labels,
    }))
}
