//! The bag-of-words baseline stage of a downstream stage (`baseline = true`): the same dataset
//! and splits, no tokenizer, no encoder, no seed. TF-IDF + logistic regression with C picked on
//! dev for `classify` and `pair` (side-marked words), the most frequent tag per word for `tag`
//! (see `crate::baseline`). Its metrics have the downstream stage's names (`dev_accuracy`,
//! `test_accuracy`, `test_macro_f1`, `test_span_f1` for tagging), so its rows line up with the
//! model's in runs.csv.

use super::inputs::record_filter;
use super::{Metrics, StageContext};
use crate::baseline::{BowTask, fit_and_score};
use crate::config::DownstreamTask;
use crate::data;
use crate::experiment::plan::{DataSource, NamedData};
use anyhow::{Context, Result, bail};
use std::path::Path;

/// The file a baseline stage writes beside its metrics: the method, the C picked and the dev
/// accuracy of every C tried.
pub const BASELINE_FILE: &str = "baseline.json";

/// Fits and scores the baseline of a `task` on `data`; writes [`BASELINE_FILE`] into `ctx.dir`.
pub fn fit_baseline(task: DownstreamTask, d: &NamedData, ctx: &StageContext) -> Result<Metrics> {
    let DataSource::Dataset(dc) = &d.source else {
        bail!("downstream data '{}' must be a dataset", d.name)
    };
    let mut metrics = Metrics::new();
    let (ds, report) = data::load_dataset(dc, Path::new(""))?;
    record_filter(&mut metrics, &d.name, &report);
    let labels = task.label_names(&ds)?;
    let Some(bow_task) = task.baseline() else {
        bail!("the bag-of-words baseline has no {} task", task.name())
    };
    let started = std::time::Instant::now();
    let m = fit_and_score(&ds.train, &ds.dev, &ds.test, bow_task, &labels)
        .with_context(|| format!("dataset '{}'", d.name))?;
    metrics.insert("train_seconds".into(), started.elapsed().as_secs_f64());
    metrics.insert("train_examples".into(), ds.train.len() as f64);
    metrics.insert("dev_accuracy".into(), m.dev_accuracy);
    metrics.insert("test_accuracy".into(), m.test_accuracy);
    metrics.insert("test_macro_f1".into(), m.test_macro_f1);
    if let Some(f) = m.test_span_f1 {
        metrics.insert("test_span_f1".into(), f);
    }
    if let Some(c) = m.c {
        metrics.insert("bow_c".into(), c);
    }
    metrics.insert("bow_features".into(), m.features as f64);
    let method = match bow_task {
        BowTask::Classify => "tf-idf + logistic regression",
        BowTask::Pair => "tf-idf of side-marked words + logistic regression",
        BowTask::Tag => "most frequent tag per word",
    };
    let grid: Vec<serde_json::Value> = m
        .grid
        .iter()
        .map(|s| serde_json::json!({ "c": s.c, "dev_accuracy": s.dev_accuracy }))
        .collect();
    let summary = serde_json::json!({
        "method": method,
        "c": m.c,
        "features": m.features,
        "grid": grid,
    });
    std::fs::write(
        ctx.dir.join(BASELINE_FILE),
        serde_json::to_vec_pretty(&summary)?,
    )?;
    Ok(metrics)
}
