//! runs.csv and summary.csv: a table of runs (one row per run, columns in a stable order) and its
//! per-cell summary (n, mean, std and 95% confidence interval of every metric, from the t
//! distribution). Files are replaced atomically (written to a temporary name, then renamed), so a
//! reader or a crash never sees a half-written row.

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

/// Rewrites `curves.csv` (run_id, stage, step, split, metric, value) with the rows of `run_id`
/// replaced by those of its stages' curve files (each `step,split,metric,value`).
pub fn replace_curves(
    path: &Path,
    run_id: &str,
    stages: &[(&str, std::path::PathBuf)],
) -> Result<()> {
    const COLS: [&str; 6] = ["run_id", "stage", "step", "split", "metric", "value"];
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
    w.write_record(COLS)?;
    for r in &rows {
        w.write_record(r)?;
    }
    let bytes = w.into_inner().context("csv buffer")?;
    crate::fsio::write_atomic(path, &bytes)?;
    Ok(())
}

/// Two-sided 95% critical values of Student's t for 1..=30 degrees of freedom.
const T95: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

pub fn t95(df: usize) -> f64 {
    if df == 0 {
        f64::NAN
    } else if df <= 30 {
        T95[df - 1]
    } else {
        1.96
    }
}

/// (mean, sample std, half-width of the 95% CI) of `xs`.
pub fn mean_std_ci(xs: &[f64]) -> (f64, f64, f64) {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, f64::NAN, f64::NAN);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let std = var.sqrt();
    (mean, std, t95(xs.len() - 1) * std / n.sqrt())
}

fn fmt(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x:.6}")
    }
}

/// One summary row per cell over the rows with status ok: the cell's `group` columns, `n`, and
/// `<metric>_mean`, `<metric>_std`, `<metric>_ci95` for every numeric metric column.
pub fn summarize(rows: &[Row], group: &[String], metrics: &[String]) -> (Vec<String>, Vec<Row>) {
    let mut cells: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.get("status").map(String::as_str) == Some("ok"))
    {
        cells
            .entry(r.get("cell_id").cloned().unwrap_or_default())
            .or_default()
            .push(r);
    }
    let mut cols = vec!["cell_id".to_string()];
    cols.extend(group.iter().cloned());
    cols.push("n".into());
    for m in metrics {
        for s in ["mean", "std", "ci95"] {
            cols.push(format!("{m}_{s}"));
        }
    }
    let mut out = Vec::new();
    for (cell, rs) in cells {
        let mut row = Row::new();
        row.insert("cell_id".into(), cell);
        for g in group {
            if let Some(v) = rs[0].get(g) {
                row.insert(g.clone(), v.clone());
            }
        }
        row.insert("n".into(), rs.len().to_string());
        for m in metrics {
            let xs: Vec<f64> = rs
                .iter()
                .filter_map(|r| r.get(m)?.parse::<f64>().ok())
                .filter(|x| x.is_finite())
                .collect();
            let (mean, std, ci) = mean_std_ci(&xs);
            row.insert(format!("{m}_mean"), fmt(mean));
            row.insert(format!("{m}_std"), fmt(std));
            row.insert(format!("{m}_ci95"), fmt(ci));
        }
        out.push(row);
    }
    (cols, out)
}

/// Metric columns: numeric columns that are not settings or provenance.
fn metric_columns(rows: &[Row], middle: &[String]) -> Vec<String> {
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

/// Writes `<exp_dir>/summary.csv`, `<exp_dir>/plots/*.svg` and `<exp_dir>/report.md` from the
/// rows, grouped by cell; `middle` are the axes and settings columns carried into each summary
/// row (the axes are those that are not settings). A chart that cannot be drawn is a warning,
/// not a failed grid.
pub fn write_summary(exp_dir: &Path, rows: &[Row], middle: &[String]) -> Result<()> {
    let metrics = metric_columns(rows, middle);
    let (cols, summary) = summarize(rows, middle, &metrics);
    write_csv(&exp_dir.join("summary.csv"), &cols, &summary)?;
    let axes: Vec<String> = middle
        .iter()
        .filter(|c| !SETTINGS.contains(&c.as_str()))
        .cloned()
        .collect();
    let plots = super::plots::write_plots(
        exp_dir,
        rows,
        &axes,
        &super::markdown::test_metrics(rows),
        middle,
    )
    .unwrap_or_else(|e| {
        eprintln!("warning: plots not written: {e:#}");
        Vec::new()
    });
    let name = exp_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let md = super::markdown::render(&name, rows, middle, &plots);
    crate::fsio::write_atomic(&exp_dir.join("report.md"), md.as_bytes())?;
    Ok(())
}

/// Rebuilds `<dir>/summary.csv`, its plots and report.md from `<dir>/runs.csv` (e.g. after
/// shards wrote their rows).
pub fn rebuild_summary(dir: &Path) -> Result<()> {
    let path = dir.join("runs.csv");
    if !path.exists() {
        anyhow::bail!("{} does not exist", path.display());
    }
    let rows = read_csv(&path)?;
    let header: Vec<String> = csv::Reader::from_path(&path)?
        .headers()?
        .iter()
        .map(String::from)
        .collect();
    let mut middle = axes_of(&header, &rows);
    middle.extend(SETTINGS.iter().map(|s| s.to_string()));
    write_summary(dir, &rows, &middle)
}

/// The sweep axes of a runs.csv: [`column_order`] writes them between the leading columns and
/// the settings. A file without the settings columns falls back to its textual columns.
fn axes_of(header: &[String], rows: &[Row]) -> Vec<String> {
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
    fn ci_uses_t_distribution() {
        let (m, s, ci) = mean_std_ci(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        assert_eq!(s, 1.0);
        assert!((ci - 4.303 / 3f64.sqrt()).abs() < 1e-12);
    }

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
