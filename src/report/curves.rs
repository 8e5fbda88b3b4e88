//! curves.csv, the learning curves of a results folder: one row per point (run_id, stage, step,
//! split, metric, value), rewritten per run from its stages' curve files and read back as points
//! for the curve charts.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// The columns of curves.csv, in order.
const COLUMNS: [&str; 6] = ["run_id", "stage", "step", "split", "metric", "value"];

/// One point of a learning curve.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    pub run_id: String,
    /// The stage's label (`pretrain.A`, `downstream.C`).
    pub stage: String,
    pub step: f64,
    pub split: String,
    pub metric: String,
    pub value: f64,
}

/// Rewrites `curves.csv` (run_id, stage, step, split, metric, value) with the rows of `run_id`
/// replaced by those of its stages' curve files (each `step,split,metric,value`).
pub fn replace_curves(path: &Path, run_id: &str, stages: &[(&str, PathBuf)]) -> Result<()> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    if path.exists() {
        let mut r = csv::Reader::from_path(path)?;
        for rec in r.records() {
            let rec = rec?;
            if rec.get(0) != Some(run_id) {
                rows.push(rec.iter().map(String::from).collect());
            }
        }
    }
    for (label, file) in stages {
        if !file.exists() {
            continue;
        }
        let mut r = csv::Reader::from_path(file)?;
        for rec in r.records() {
            let rec = rec?;
            let mut row = vec![run_id.to_string(), label.to_string()];
            row.extend(rec.iter().map(String::from));
            rows.push(row);
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(COLUMNS)?;
    for r in &rows {
        w.write_record(r)?;
    }
    let bytes = w.into_inner().context("csv buffer")?;
    crate::fsio::write_atomic(path, &bytes)?;
    Ok(())
}

/// The points of curves.csv at `path`, in file order (none without the file). Rows whose step or
/// value is not a number, or whose value is not finite, are skipped.
pub fn read_curves(path: &Path) -> Result<Vec<CurvePoint>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut r =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let h = r.headers()?.clone();
    let col = |name: &str| {
        h.iter()
            .position(|c| c == name)
            .with_context(|| format!("{}: no column {name}", path.display()))
    };
    let (run, stage, step, split, metric, value) = (
        col("run_id")?,
        col("stage")?,
        col("step")?,
        col("split")?,
        col("metric")?,
        col("value")?,
    );
    let mut points = Vec::new();
    for rec in r.records() {
        let rec = rec.with_context(|| format!("reading {}", path.display()))?;
        let (Ok(x), Ok(y)) = (rec[step].parse::<f64>(), rec[value].parse::<f64>()) else {
            continue;
        };
        if !y.is_finite() {
            continue;
        }
        points.push(CurvePoint {
            run_id: rec[run].to_string(),
            stage: rec[stage].to_string(),
            step: x,
            split: rec[split].to_string(),
            metric: rec[metric].to_string(),
            value: y,
        });
    }
    Ok(points)
}
