//! The report's data model: the table of runs that runs.csv holds (one row per run, columns in a
//! stable order) and summary.csv's rows, read and written as CSV, and what each column is: the
//! leading ids, the sweep axes, the settings, the metrics (read through the metric catalogue,
//! [`crate::metrics::Column`]), the provenance at the end. Every other part of the report reads
//! rows through this file. Files are replaced atomically (written to a temporary name, then
//! renamed), so a reader or a crash never sees a half-written row.

use crate::metrics::{Column, Split};
use anyhow::{Context, Result};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// One run's row: column name → value (numbers are written as they are; empty means missing).
pub type Row = BTreeMap<String, String>;

/// The settings columns every row carries besides the sweep axes (grouping columns, not metrics).
pub const SETTINGS: &[&str] = &[
    "downstream",
    "task",
    "pretrain",
    "transfer",
    "layers",
    "depth",
    "d_model",
    "word",
    "position",
    "segment",
];

/// The `transfer` of a bag-of-words baseline row (`baseline = true`).
pub const BOW: &str = "bow";

/// The keys of a run's pretraining stages, in run order (space-separated; absent without any):
/// whether the seeds of a cell share them says whether its interval includes pretraining variance.
pub const PRETRAIN_KEYS: &str = "pretrain_keys";

/// Columns that come first, in this order, when present.
pub const LEADING: &[&str] = &["run_id", "cell_id", "seed", "status", "error"];
/// Columns that come last, in this order, when present.
pub const TRAILING: &[&str] = &[
    "seconds",
    "stage_keys",
    PRETRAIN_KEYS,
    "config_hash",
    "embedlab_version",
    "git_commit",
    "ort_version",
    "threads",
];

/// Orders columns: leading, then `middle` (axes and settings, in the given order), then the
/// remaining columns sorted (metrics), then trailing.
pub fn column_order(rows: &[Row], middle: &[String]) -> Vec<String> {
    let all: BTreeSet<&String> = rows.iter().flat_map(|r| r.keys()).collect();
    let mut cols: Vec<String> = LEADING.iter().map(|s| s.to_string()).collect();
    for m in middle {
        if !cols.contains(m) {
            cols.push(m.clone());
        }
    }
    for c in all {
        if !cols.contains(c) && !TRAILING.contains(&c.as_str()) {
            cols.push(c.clone());
        }
    }
    cols.extend(TRAILING.iter().map(|s| s.to_string()));
    cols
}

/// Writes `rows` as CSV with `columns`, atomically.
pub fn write_csv(path: &Path, columns: &[String], rows: &[Row]) -> Result<()> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(columns)?;
    for r in rows {
        w.write_record(
            columns
                .iter()
                .map(|c| r.get(c).map(String::as_str).unwrap_or("")),
        )?;
    }
    let bytes = w.into_inner().context("csv buffer")?;
    crate::fsio::write_atomic(path, &bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Reads a CSV written by [`write_csv`] (missing file: no rows).
pub fn read_csv(path: &Path) -> Result<Vec<Row>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut r =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers = r.headers()?.clone();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.with_context(|| format!("reading {}", path.display()))?;
        rows.push(
            headers
                .iter()
                .zip(rec.iter())
                .filter(|(_, v)| !v.is_empty())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect(),
        );
    }
    Ok(rows)
}

/// The header of the CSV file at `path`, in its order.
pub fn read_header(path: &Path) -> Result<Vec<String>> {
    Ok(csv::Reader::from_path(path)?
        .headers()?
        .iter()
        .map(String::from)
        .collect())
}

/// Whether a run succeeded (`status` = ok).
pub fn is_ok(r: &Row) -> bool {
    r.get("status").map(String::as_str) == Some("ok")
}

/// Whether a run failed (`status` = failed).
pub fn is_failed(r: &Row) -> bool {
    r.get("status").map(String::as_str) == Some("failed")
}

/// Whether a cell's runs are the bag-of-words baseline.
pub fn is_bow(r: &Row) -> bool {
    r.get("transfer").map(String::as_str) == Some(BOW)
}

/// The finite number in column `c` of `r`.
pub fn num(r: &Row, c: &str) -> Option<f64> {
    r.get(c)?.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// Columns that name the transfer mode, or that a scratch run normalises away (which pretraining,
/// how many layers): pairs of runs may differ in these.
pub fn is_transfer(c: &str) -> bool {
    ["transfer", "pretrain", "layers"].contains(&c)
        || [".transfer", ".from", ".layers"]
            .iter()
            .any(|s| c.ends_with(s))
}

/// A downstream stage's `transfer` axis (`downstream.C.transfer`), which the settings column
/// `transfer` repeats.
pub fn is_transfer_axis(c: &str) -> bool {
    c.ends_with(".transfer")
}

/// `(k, column)` of a `probe_layers` column of the downstream stage, `layer<k>_<split>_<metric>`
/// or `layer<k>_<metric>`. The layer columns of a named stage (`C.layer0_test_accuracy`, in a
/// cell with several downstream stages) are not read as layer columns: the Layers section has
/// never shown them, and the summary shows them as test metrics.
pub fn layer_column(name: &str) -> Option<(usize, Column<'_>)> {
    let c = Column::parse(name)?;
    match (c.stage, c.layer) {
        (None, Some(k)) => Some((k, c)),
        _ => None,
    }
}

/// The test metrics present (accuracy, macro-F1, (tagging) span F1 and (extractive QA) exact
/// match and F1: the catalogue's headline metrics on the test split), sorted; layer columns
/// are the Layers section's.
pub fn test_metrics(rows: &[Row]) -> Vec<String> {
    let mut cols: Vec<String> = rows
        .iter()
        .flat_map(|r| r.keys())
        .filter(|k| {
            Column::parse(k).is_some_and(|c| c.split == Some(Split::Test) && c.metric.headline())
                && layer_column(k).is_none()
        })
        .cloned()
        .collect();
    cols.sort();
    cols.dedup();
    cols
}

/// Metric columns: numeric columns that are not settings or provenance.
pub fn metric_columns(rows: &[Row], middle: &[String]) -> Vec<String> {
    column_order(rows, middle)
        .into_iter()
        .filter(|c| {
            !LEADING.contains(&c.as_str()) && !TRAILING.contains(&c.as_str()) && !middle.contains(c)
        })
        .filter(|c| {
            rows.iter()
                .any(|r| r.get(c).is_some_and(|v| v.parse::<f64>().is_ok()))
        })
        .collect()
}

/// The sweep axes of a runs.csv: [`column_order`] writes them between the leading columns and
/// the settings. A file without the settings columns falls back to its textual columns.
pub fn axes_of(header: &[String], rows: &[Row]) -> Vec<String> {
    let is = |set: &[&str], c: &String| set.contains(&c.as_str());
    if header.iter().any(|c| is(SETTINGS, c)) {
        return header
            .iter()
            .filter(|c| !is(LEADING, c))
            .take_while(|c| !is(SETTINGS, c))
            .cloned()
            .collect();
    }
    header
        .iter()
        .filter(|c| !is(LEADING, c) && !is(TRAILING, c))
        .filter(|c| {
            rows.iter()
                .any(|r| r.get(*c).is_some_and(|v| v.parse::<f64>().is_err()))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip_and_column_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Row::new();
        for (k, v) in [
            ("status", "ok"),
            ("run_id", "c001-s1"),
            ("test_accuracy", "0.5"),
            ("seconds", "3"),
            ("zeta", "1"),
        ] {
            r.insert(k.into(), v.into());
        }
        let cols = column_order(std::slice::from_ref(&r), &["transfer".to_string()]);
        assert_eq!(
            cols[..6],
            ["run_id", "cell_id", "seed", "status", "error", "transfer"]
        );
        assert_eq!(cols[6..8], ["test_accuracy", "zeta"]);
        let p = dir.path().join("runs.csv");
        write_csv(&p, &cols, std::slice::from_ref(&r)).unwrap();
        assert_eq!(read_csv(&p).unwrap(), vec![r]);
    }

    #[test]
    fn test_metrics_are_the_headline_test_columns_without_layers() {
        let r: Row = [
            "test_accuracy",
            "test_span_f1",
            "test_loss",
            "test_span_recall",
            "dev_accuracy",
            "C.test_f1",
            "layer1_test_accuracy",
            // A named stage's layer column is a test metric here, as it always was (see
            // `layer_column`).
            "C.layer1_test_accuracy",
            "pretrain_dev_accuracy",
        ]
        .iter()
        .map(|k| (k.to_string(), "0.5".to_string()))
        .collect();
        assert_eq!(
            test_metrics(std::slice::from_ref(&r)),
            [
                "C.layer1_test_accuracy",
                "C.test_f1",
                "test_accuracy",
                "test_span_f1"
            ]
        );
    }

    #[test]
    fn axes_are_read_back_from_the_column_order_numeric_ones_too() {
        let mut r = Row::new();
        for (k, v) in [
            ("run_id", "c001-s1"),
            ("encoder.depth", "2"),
            ("downstream.C.transfer", "frozen"),
            ("test_accuracy", "0.5"),
        ] {
            r.insert(k.into(), v.into());
        }
        let middle: Vec<String> = ["encoder.depth", "downstream.C.transfer"]
            .iter()
            .map(|s| s.to_string())
            .chain(SETTINGS.iter().map(|s| s.to_string()))
            .collect();
        let header = column_order(std::slice::from_ref(&r), &middle);
        assert_eq!(
            axes_of(&header, std::slice::from_ref(&r)),
            ["encoder.depth", "downstream.C.transfer"]
        );
    }
}
