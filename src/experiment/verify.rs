//! `embedlab verify DIR`: checks a results folder without changing it. Every stage under
//! `.stages/` against its manifest (see `manifest`), and every run of every experiment there:
//! runs.csv readable with one row per run, and for each successful run its folder
//! (`config.toml`, `metrics.json` agreeing with its row) and the stages its row names, present and
//! intact. Unfinished leftovers of interrupted runs (`<key>.tmp-<pid>`, `<key>.partial`) are
//! listed but are not damage: the next run removes or resumes them.

use super::manifest::{Damage, verify_stage};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Why a folder could not be checked at all.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(
        "{}: not a results folder (expected a .stages folder, or runs.csv for one experiment)",
        .0.display()
    )]
    NotResults(PathBuf),
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What `verify` found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    /// The results root (the folder holding `.stages`).
    pub root: PathBuf,
    pub stages_checked: usize,
    /// Damaged stages, by key.
    pub damaged_stages: BTreeMap<String, Damage>,
    pub runs_checked: usize,
    pub experiments: Vec<String>,
    /// `experiment/run_id` (or `experiment/runs.csv`) and what is wrong.
    pub damaged_runs: Vec<(String, String)>,
    /// Leftovers of interrupted runs (not damage).
    pub unfinished: Vec<String>,
}

impl VerifyReport {
    /// Whether nothing is damaged.
    pub fn is_clean(&self) -> bool {
        self.damaged_stages.is_empty() && self.damaged_runs.is_empty()
    }

    /// One line per damaged stage and run, then a summary line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (key, damage) in &self.damaged_stages {
            let _ = writeln!(out, "damaged stage {key}: {damage}");
        }
        for (run, why) in &self.damaged_runs {
            let _ = writeln!(out, "damaged run {run}: {why}");
        }
        for name in &self.unfinished {
            let _ = writeln!(
                out,
                "unfinished .stages/{name} (left by an interrupted run; the next run removes or resumes it)"
            );
        }
        let _ = writeln!(
            out,
            "{}: {} stages checked, {} damaged; {} runs checked in {} experiment(s), {} damaged",
            self.root.display(),
            self.stages_checked,
            self.damaged_stages.len(),
            self.runs_checked,
            self.experiments.len(),
            self.damaged_runs.len()
        );
        out
    }
}

/// Checks the results folder `dir`: a results root (holding `.stages` and experiment folders)
/// or one experiment's folder (holding runs.csv; its stages are in `../.stages`).
pub fn verify_results(dir: &Path) -> Result<VerifyReport, VerifyError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| VerifyError::Io { path, source }
    };
    let (root, experiments) = if dir.join(".stages").is_dir() {
        let mut exps = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let entry = entry.map_err(io(dir))?;
            if entry.path().join("runs.csv").is_file() {
                exps.push(entry.path());
            }
        }
        exps.sort();
        (dir.to_path_buf(), exps)
    } else if dir.join("runs.csv").is_file() {
        let root = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        (root, vec![dir.to_path_buf()])
    } else {
        return Err(VerifyError::NotResults(dir.to_path_buf()));
    };
    let mut report = VerifyReport {
        root: root.clone(),
        ..VerifyReport::default()
    };
    let stages = root.join(".stages");
    let mut present = HashSet::new();
    if stages.is_dir() {
        let mut names: Vec<String> = std::fs::read_dir(&stages)
            .map_err(io(&stages))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            if name.contains(".tmp-") || name.ends_with(".partial") {
                report.unfinished.push(name);
                continue;
            }
            report.stages_checked += 1;
            present.insert(name.clone());
            if let Err(damage) = verify_stage(&stages.join(&name), &name) {
                report.damaged_stages.insert(name, damage);
            }
        }
    }
    for exp in experiments {
        let name = exp
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        check_runs(&exp, &name, &present, &mut report);
        report.experiments.push(name);
    }
    Ok(report)
}

/// Checks one experiment's runs.csv and its successful runs' folders and stages.
fn check_runs(exp: &Path, name: &str, present: &HashSet<String>, report: &mut VerifyReport) {
    let csv_path = exp.join("runs.csv");
    let mut found: Vec<(String, String)> = Vec::new();
    let checked = check_rows(&csv_path, name, exp, present, report, &mut found);
    report.runs_checked += checked;
    report.damaged_runs.extend(found);
}

/// The rows of one runs.csv; returns how many were read, damage into `found`.
fn check_rows(
    csv_path: &Path,
    name: &str,
    exp: &Path,
    present: &HashSet<String>,
    report: &VerifyReport,
    found: &mut Vec<(String, String)>,
) -> usize {
    let mut damaged = |what: String, why: String| found.push((what, why));
    let mut reader = match csv::Reader::from_path(csv_path) {
        Ok(r) => r,
        Err(e) => {
            damaged(format!("{name}/runs.csv"), e.to_string());
            return 0;
        }
    };
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(String::from).collect(),
        Err(e) => {
            damaged(format!("{name}/runs.csv"), e.to_string());
            return 0;
        }
    };
    let column = |n: &str| headers.iter().position(|h| h == n);
    let (Some(id_col), Some(status_col)) = (column("run_id"), column("status")) else {
        damaged(
            format!("{name}/runs.csv"),
            "no run_id or status column".into(),
        );
        return 0;
    };
    let keys_col = column("stage_keys");
    let mut seen = HashSet::new();
    let mut checked = 0;
    for (line, record) in reader.records().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                damaged(format!("{name}/runs.csv"), format!("row {}: {e}", line + 2));
                continue;
            }
        };
        let id = record.get(id_col).unwrap_or("").to_string();
        let what = format!("{name}/{id}");
        checked += 1;
        if !seen.insert(id.clone()) {
            damaged(what, "more than one row in runs.csv".into());
            continue;
        }
        if record.get(status_col) != Some("ok") {
            continue;
        }
        let keys = keys_col.and_then(|c| record.get(c)).unwrap_or("");
        for key in keys.split_whitespace() {
            if report.damaged_stages.contains_key(key) {
                damaged(what.clone(), format!("its stage {key} is damaged"));
            } else if !present.contains(key) {
                damaged(what.clone(), format!("its stage {key} is missing"));
            }
        }
        let run_dir = exp.join("runs").join(&id);
        if !run_dir.join("config.toml").is_file() {
            damaged(what.clone(), format!("runs/{id}/config.toml is missing"));
        }
        match read_metrics(&run_dir.join("metrics.json")) {
            Err(e) => damaged(what.clone(), format!("runs/{id}/metrics.json: {e}")),
            Ok(metrics) => {
                for (metric, value) in metrics {
                    let in_row = column(&metric)
                        .and_then(|c| record.get(c))
                        .and_then(|v| v.parse::<f64>().ok());
                    if in_row.is_some_and(|v| v.to_bits() != value.to_bits()) {
                        damaged(
                            what.clone(),
                            format!(
                                "runs/{id}/metrics.json: {metric} = {value}, runs.csv has {in_row:?}"
                            ),
                        );
                    }
                }
            }
        }
    }
    checked
}

/// A run's metrics.json: name to number (a metric written as null, e.g. NaN, is left out).
fn read_metrics(path: &Path) -> Result<BTreeMap<String, f64>, String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    let map: BTreeMap<String, Option<f64>> =
        serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    Ok(map.into_iter().filter_map(|(k, v)| Some((k, v?))).collect())
}
