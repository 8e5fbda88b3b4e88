//! runs.csv and what goes with it: a finished run's row (the cell's axes and settings, the
//! metrics, provenance columns: stage keys, the pretraining stages' keys, versions, commit,
//! threads, config hash), and the consumer of the grid's events that writes the results: each
//! row merged into runs.csv under a file lock with the rows other workers and shards write, each
//! run's folder (config.toml, metrics.json), its learning curves in curves.csv, and at the end
//! summary.csv and report.md.

use super::super::plan::{CellKind, Plan, RunPlan, StageKind};
use super::super::stage::{self, Metrics};
use super::options::RunOptions;
use super::store::{stage_dir, with_lock};
use crate::config::Experiment;
use crate::report::event::{Event, Reporter, RunFinished};
use crate::report::table::{self, BOW, Row};
use crate::report::{replace_curves, write_summary};
use anyhow::Result;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// What every row of a grid records about the code that wrote it.
pub(super) struct Provenance {
    commit: String,
    ort_version: String,
}

impl Provenance {
    pub(super) fn new(ort_version: String) -> Provenance {
        Provenance {
            commit: git_commit(),
            ort_version,
        }
    }
}

/// A finished run's runs.csv row: its settings, ids and status (with the error of a failed run),
/// every stage's metrics, and its provenance.
pub(super) fn run_row(
    plan: &Plan,
    run: &RunPlan,
    metrics: &Metrics,
    error: Option<&str>,
    seconds: f64,
    options: &RunOptions,
    provenance: &Provenance,
) -> Row {
    let mut row = settings_of(plan, run);
    row.insert("run_id".into(), run.run_id.clone());
    row.insert("cell_id".into(), run.cell_id.clone());
    row.insert("seed".into(), run.seed.to_string());
    row.insert(
        "status".into(),
        if error.is_some() { "failed" } else { "ok" }.into(),
    );
    if let Some(e) = &error {
        row.insert("error".into(), e.replace('\n', " "));
    }
    for (k, v) in metrics {
        row.insert(k.clone(), format!("{v}"));
    }
    row.insert("seconds".into(), format!("{seconds:.2}"));
    row.insert("stage_keys".into(), run.stages.join(" "));
    let pretrain_keys: Vec<&str> = run
        .stages
        .iter()
        .filter(|k| plan.stage(k).is_some_and(|s| s.kind == StageKind::Pretrain))
        .map(String::as_str)
        .collect();
    if !pretrain_keys.is_empty() {
        row.insert(table::PRETRAIN_KEYS.into(), pretrain_keys.join(" "));
    }
    row.insert("embedlab_version".into(), env!("CARGO_PKG_VERSION").into());
    row.insert("git_commit".into(), provenance.commit.clone());
    row.insert("ort_version".into(), provenance.ort_version.clone());
    row.insert(
        "threads".into(),
        stage::thread_count(options.threads).to_string(),
    );
    if let Some(cfg) = cell_config(plan, run) {
        let digest = <sha2::Sha256 as sha2::Digest>::digest(cfg.as_bytes());
        row.insert("config_hash".into(), hex::encode(&digest[..8]));
    }
    row
}

/// The experiment of a run's cell as TOML (its folder's config.toml, hashed into its row).
fn cell_config(plan: &Plan, run: &RunPlan) -> Option<String> {
    let cell = plan.cells.iter().find(|c| c.id == run.cell_id)?;
    Some(toml::to_string(&cell.experiment).unwrap_or_default())
}

/// The results of one experiment: `<out>/<experiment>/` with runs.csv, curves.csv and the runs'
/// folders. A consumer of the grid's events: it writes a run's results when the run finishes
/// and the summary when the grid does.
pub(super) struct RunsTable<'a> {
    plan: &'a Plan,
    /// The results root, whose `.stages/` holds the stages' curve files.
    out_dir: PathBuf,
    exp_dir: PathBuf,
    runs_csv: PathBuf,
    rows_lock: PathBuf,
    /// Axes and settings columns.
    middle: Vec<String>,
    /// Stage keys of every run in the plan, by run id.
    current: HashMap<&'a str, String>,
}

impl<'a> RunsTable<'a> {
    pub(super) fn new(plan: &'a Plan, exp_dir: PathBuf, out_dir: PathBuf) -> RunsTable<'a> {
        let mut middle: Vec<String> = plan.axes.clone();
        middle.extend(table::SETTINGS.iter().map(|s| s.to_string()));
        let (runs_csv, rows_lock) = (exp_dir.join("runs.csv"), exp_dir.join("runs.csv.lock"));
        let current: HashMap<&str, String> = plan
            .runs
            .iter()
            .map(|r| (r.run_id.as_str(), r.stages.join(" ")))
            .collect();
        RunsTable {
            plan,
            out_dir,
            exp_dir,
            runs_csv,
            rows_lock,
            middle,
            current,
        }
    }

    /// A row is reused only when its run is in this plan with the same stage keys.
    fn in_plan(&self, r: &Row) -> bool {
        let (Some(id), Some(keys)) = (r.get("run_id"), r.get("stage_keys")) else {
            return false;
        };
        self.current.get(id.as_str()) == Some(keys)
    }

    /// Ids of the runs already complete: rows of runs that succeeded with the same stage keys
    /// (none with `fresh`). Rows of an edited grid or of failed runs do not count, so those runs
    /// run again.
    pub(super) fn completed_runs(&self, fresh: bool) -> Result<HashSet<String>> {
        with_lock(&self.rows_lock, || {
            let rows = if fresh {
                Vec::new()
            } else {
                table::read_csv(&self.runs_csv)?
            };
            let ok =
                |r: &&Row| self.in_plan(r) && r.get("status").map(String::as_str) == Some("ok");
            Ok(rows
                .iter()
                .filter(ok)
                .filter_map(|r| r.get("run_id").cloned())
                .collect())
        })
    }

    /// Writes a finished run's folder, its row (merged into runs.csv under its lock) and its
    /// learning curves.
    fn write_run(&self, finished: &RunFinished) -> Result<()> {
        let (plan, run) = (self.plan, &self.plan.runs[finished.position]);
        let run_dir = self.exp_dir.join("runs").join(&run.run_id);
        std::fs::create_dir_all(&run_dir)?;
        if let Some(cfg) = cell_config(plan, run) {
            std::fs::write(run_dir.join("config.toml"), cfg)?;
        }
        std::fs::write(
            run_dir.join("metrics.json"),
            serde_json::to_vec_pretty(finished.metrics)?,
        )?;
        // Merge into the file as it is now (other shards and workers may have added rows), under
        // the lock (an advisory file lock, which also excludes the other threads of this process).
        with_lock(&self.rows_lock, || {
            let mut rows = table::read_csv(&self.runs_csv)?;
            rows.retain(|r| self.in_plan(r) && r.get("run_id") != Some(&run.run_id));
            rows.push(finished.row.clone());
            rows.sort_by(|a, b| a.get("run_id").cmp(&b.get("run_id")));
            table::write_csv(
                &self.runs_csv,
                &table::column_order(&rows, &self.middle),
                &rows,
            )
        })?;
        if finished.error.is_none() {
            let stages: Vec<(&str, PathBuf)> = run
                .stages
                .iter()
                .filter_map(|k| {
                    Some((
                        plan.stage(k)?.label.as_str(),
                        stage_dir(&self.out_dir, k).join(stage::files::CURVES),
                    ))
                })
                .collect();
            with_lock(&self.rows_lock, || {
                replace_curves(&self.exp_dir.join("curves.csv"), &run.run_id, &stages)
            })?;
        }
        Ok(())
    }

    /// Rewrites runs.csv without the rows of runs no longer in the plan, then writes the
    /// per-cell summary, report.md and the plots.
    fn finish(&self) -> Result<()> {
        with_lock(&self.rows_lock, || {
            let mut rows = table::read_csv(&self.runs_csv)?;
            rows.retain(|r| self.in_plan(r));
            table::write_csv(
                &self.runs_csv,
                &table::column_order(&rows, &self.middle),
                &rows,
            )?;
            write_summary(&self.exp_dir, &rows, &self.middle)
        })
    }
}

impl Reporter for RunsTable<'_> {
    fn event(&self, event: &Event<'_>) -> Result<()> {
        match event {
            Event::RunFinished(run) => self.write_run(run),
            Event::GridFinished(_) => self.finish(),
            // Stages write into the stage store themselves; nothing of theirs goes to runs.csv
            // until their runs finish.
            Event::StageStarted { .. }
            | Event::StageProgress { .. }
            | Event::StageFinished { .. }
            | Event::StageFailed { .. }
            | Event::StageReused { .. }
            | Event::StageDamaged { .. }
            | Event::WorkersStopped => Ok(()),
        }
    }
}

fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// The settings columns of a run's row: its first downstream stage's task and transfer, the
/// encoder and embeddings, and the cell's axes. A baseline run has its downstream stage's name
/// and task, `pretrain = none`, `transfer = bow`, and no encoder or embeddings settings.
fn settings_of(plan: &Plan, run: &RunPlan) -> Row {
    let mut r = Row::new();
    let Some(cell) = plan.cell(&run.cell_id) else {
        return r;
    };
    let e = &cell.experiment;
    let downstream = match &cell.kind {
        CellKind::Model => run.downstream.first().map(|d| d.name.as_str()),
        CellKind::Baseline { downstream } => Some(downstream.as_str()),
    };
    if let Some(name) = downstream
        && let Some(dc) = e.downstream.get(name)
    {
        r.insert("downstream".into(), name.to_string());
        r.insert("task".into(), text(dc.task));
    }
    match &cell.kind {
        CellKind::Baseline { .. } => {
            r.insert("pretrain".into(), "none".into());
            r.insert("transfer".into(), BOW.into());
        }
        CellKind::Model => model_settings(&mut r, e, downstream),
    }
    for a in &cell.axes {
        r.insert(a.key.clone(), text(&a.value));
    }
    r
}

/// A setting as a CSV value: strings without their quotes.
fn text<T: serde::Serialize>(value: T) -> String {
    match serde_json::to_value(value).unwrap_or_default() {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

/// The transfer and architecture settings of a model run.
fn model_settings(r: &mut Row, e: &Experiment, downstream: Option<&str>) {
    if let Some(dc) = downstream.and_then(|name| e.downstream.get(name)) {
        r.insert(
            "pretrain".into(),
            if dc.from.is_none() {
                "none".into()
            } else {
                dc.from.0.join(">")
            },
        );
        r.insert("transfer".into(), text(dc.transfer));
        r.insert("layers".into(), dc.layers.to_string());
    }
    r.insert("depth".into(), e.encoder.depth.to_string());
    r.insert("d_model".into(), e.encoder.d_model.to_string());
    r.insert("word".into(), text(e.embeddings.word));
    r.insert("position".into(), text(e.embeddings.position));
    r.insert("segment".into(), e.embeddings.segment.to_string());
}
