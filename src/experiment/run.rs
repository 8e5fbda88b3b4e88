//! Executing a plan: every stage once (reused from `<out>/.stages/<key>/` when already complete),
//! in dependency order, run by run; each run's row written to runs.csv as soon as it finishes,
//! the per-cell summary after the grid. A failed stage fails the runs that need it, with its
//! reason in runs.csv; the rest of the grid goes on.

use super::execute::{self, METRICS_FILE, Metrics, Progress};
use super::plan::{Plan, RunPlan, StageConfig, StageKind, StagePlan};
use crate::report::table::{self, Row};
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How to execute a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// Results root (`results/` by default); runs go to `<out_dir>/<experiment>/`, stage outputs
    /// to `<out_dir>/.stages/<key>/`.
    pub out_dir: PathBuf,
    /// Stages executed at the same time.
    pub jobs: usize,
    /// Ignore cached stage outputs and existing rows; run everything again.
    pub fresh: bool,
    /// Intra-op threads for ONNX Runtime (from the experiment's `threads`); all cores when `None`.
    pub threads: Option<usize>,
    /// Run only the runs of shard `index` of `count` (0-based), e.g. one SLURM array task.
    pub shard: Option<Shard>,
}

/// One part of a plan split over several processes: runs with `position % count == index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

/// How many runs succeeded and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunSummary {
    pub ok: usize,
    pub failed: usize,
    /// Runs already complete in runs.csv, not run again.
    pub skipped: usize,
    /// Stages whose outputs were reused from the cache.
    pub cached_stages: usize,
    pub executed_stages: usize,
}

/// A progress display for one stage: an indicatif bar on a terminal, plain lines otherwise.
struct StageProgress {
    bar: Option<ProgressBar>,
    label: String,
    last_tenth: std::cell::Cell<u64>,
    /// Learning-curve points: (split, metric, step, value).
    points: std::cell::RefCell<Vec<(String, String, u64, f64)>>,
}

impl StageProgress {
    fn new(label: String) -> StageProgress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(1);
            b.set_style(
                ProgressStyle::with_template("{prefix:>28} [{bar:30}] {pos}/{len} {msg} eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            b.set_prefix(label.clone());
            b
        });
        StageProgress {
            bar,
            label,
            last_tenth: std::cell::Cell::new(0),
            points: Default::default(),
        }
    }
    fn finish(&self, msg: &str) {
        match &self.bar {
            Some(b) => b.finish_with_message(msg.to_string()),
            None => eprintln!("{}: {msg}", self.label),
        }
    }
}

impl Progress for StageProgress {
    fn point(&self, split: &str, metric: &str, step: u64, value: f64) {
        self.points
            .borrow_mut()
            .push((split.to_string(), metric.to_string(), step, value));
    }

    fn step(&self, step: u64, total: u64, loss: f64) {
        match &self.bar {
            Some(b) => {
                b.set_length(total);
                b.set_position(step);
                b.set_message(format!("loss {loss:.4}"));
            }
            None => {
                let tenth = step * 10 / total.max(1);
                if tenth > self.last_tenth.get() {
                    self.last_tenth.set(tenth);
                    eprintln!("{}: step {step}/{total} loss {loss:.4}", self.label);
                }
            }
        }
    }
}

fn stage_dir(out: &Path, key: &str) -> PathBuf {
    out.join(".stages").join(key)
}

/// Executes one stage into a temporary directory renamed into place on success.
fn execute_stage(plan: &Plan, stage: &StagePlan, options: &RunOptions) -> Result<Metrics> {
    let out = &options.out_dir;
    let dir = stage_dir(out, &stage.key);
    let tmp = out
        .join(".stages")
        .join(format!("{}.tmp-{}", stage.key, std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let progress = StageProgress::new(stage.label.clone());
    // Periodic checkpoints of a long stage live here until it completes (not per process, so a
    // rerun after a crash continues from them).
    let resume = out.join(".stages").join(format!("{}.partial", stage.key));
    // Created only when a stage writes a checkpoint there (save_checkpoint makes the folder).
    if options.fresh && resume.exists() {
        std::fs::remove_dir_all(&resume)?;
    }
    let key_dir = |k: &str| stage_dir(out, k);
    let threads = options.threads;
    // `embeddings.word = "static"`: vectors trained upstream on the tokenizer's texts, once per
    // tokenizer and dimension, kept beside the tokenizer's stage.
    let vectors = |emb: &crate::config::EmbeddingsConfig,
                   enc: &crate::config::EncoderConfig,
                   tok_key: &str|
     -> Result<Option<Vec<f32>>> {
        if emb.word != crate::config::WordEmbedding::Static {
            return Ok(None);
        }
        let Some(StageConfig::Tokenizer { fit_on, .. }) = plan.stage(tok_key).map(|s| &s.config)
        else {
            anyhow::bail!("tokenizer stage {tok_key} missing from the plan");
        };
        let dir = out
            .join(".stages")
            .join(format!("{tok_key}.vectors-d{}", enc.d_model));
        let lock = out
            .join(".stages")
            .join(format!("{tok_key}.vectors-d{}.lock", enc.d_model));
        with_lock(&lock, || {
            execute::static_vectors(&key_dir(tok_key), fit_on, enc.d_model, &dir, threads)
        })
        .map(Some)
    };
    let metrics = match &stage.config {
        StageConfig::Tokenizer { tokenizer, fit_on } => execute::tokenizer_stage(tokenizer, fit_on, &tmp),
        StageConfig::Pretrain { pretrain, encoder, embeddings, data, seed, tokenizer, previous } => {
            vectors(embeddings, encoder, tokenizer).and_then(|v| {
                execute::pretrain_stage(
                    pretrain,
                    encoder,
                    embeddings,
                    data,
                    *seed,
                    &key_dir(tokenizer),
                    previous.as_deref().map(key_dir).as_deref(),
                    v.as_deref(),
                    &tmp,
                    &resume,
                    threads,
                    &progress,
                )
            })
        }
        StageConfig::Downstream { downstream, encoder, embeddings, data, seed, tokenizer, pretrained } => {
            vectors(embeddings, encoder, tokenizer).and_then(|v| {
                execute::downstream_stage(
                    downstream,
                    encoder,
                    embeddings,
                    data,
                    *seed,
                    &key_dir(tokenizer),
                    pretrained.as_deref().map(key_dir).as_deref(),
                    v.as_deref(),
                    pretrained.as_deref().is_some_and(|k| {
                        matches!(plan.stage(k).map(|s| &s.config), Some(StageConfig::Pretrain { pretrain, .. }) if pretrain.task == crate::config::PretrainTask::Clm)
                    }),
                    threads,
                    &progress,
                )
            })
        }
    };
    let metrics = match metrics {
        Ok(m) => m,
        Err(e) => {
            progress.finish("failed");
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    std::fs::write(tmp.join(METRICS_FILE), serde_json::to_vec_pretty(&metrics)?)?;
    let mut curves = csv::Writer::from_path(tmp.join(execute::CURVES_FILE))?;
    curves.write_record(["step", "split", "metric", "value"])?;
    for (split, metric, step, value) in progress.points.borrow().iter() {
        curves.write_record([
            step.to_string(),
            split.clone(),
            metric.clone(),
            value.to_string(),
        ])?;
    }
    curves.flush()?;
    drop(curves);
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::rename(&tmp, &dir).with_context(|| format!("moving {} into place", dir.display()))?;
    let _ = std::fs::remove_dir_all(&resume);
    progress.finish("done");
    Ok(metrics)
}

/// Runs `f` holding an exclusive advisory lock on the file `path` (created if missing), so that
/// processes sharing a results directory (shards) take turns.
fn with_lock<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("opening lock file {}", path.display()))?;
    file.lock()
        .with_context(|| format!("locking {}", path.display()))?;
    let out = f();
    drop(file);
    out
}

fn cached_metrics(out: &Path, key: &str) -> Option<Metrics> {
    let bytes = std::fs::read(stage_dir(out, key).join(METRICS_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
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

fn settings_of(plan: &Plan, run: &RunPlan) -> Row {
    let mut r = Row::new();
    let Some(cell) = plan.cells.iter().find(|c| c.id == run.cell_id) else {
        return r;
    };
    let e = &cell.experiment;
    let json = |v: serde_json::Value| match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    };
    if let Some(d) = run.downstream.first() {
        if let Some(dc) = e.downstream.get(&d.name) {
            r.insert("downstream".into(), d.name.clone());
            r.insert(
                "task".into(),
                json(serde_json::to_value(dc.task).unwrap_or_default()),
            );
            r.insert(
                "pretrain".into(),
                if dc.from.is_none() {
                    "none".into()
                } else {
                    dc.from.0.join(">")
                },
            );
            r.insert(
                "transfer".into(),
                json(serde_json::to_value(dc.transfer).unwrap_or_default()),
            );
            r.insert("layers".into(), dc.layers.to_string());
        }
    }
    r.insert("depth".into(), e.encoder.depth.to_string());
    r.insert("d_model".into(), e.encoder.d_model.to_string());
    r.insert(
        "word".into(),
        json(serde_json::to_value(e.embeddings.word).unwrap_or_default()),
    );
    r.insert(
        "position".into(),
        json(serde_json::to_value(e.embeddings.position).unwrap_or_default()),
    );
    r.insert("segment".into(), e.embeddings.segment.to_string());
    for a in &cell.axes {
        r.insert(a.key.clone(), json(a.value.clone()));
    }
    r
}

/// Executes every run of `plan` (or of its shard).
pub fn run_plan(plan: &Plan, options: &RunOptions) -> Result<RunSummary> {
    let exp_dir = options.out_dir.join(&plan.experiment_name);
    std::fs::create_dir_all(exp_dir.join("runs"))
        .with_context(|| format!("cannot create the output directory {}", exp_dir.display()))?;
    let info = crate::runtime::init()?;
    if options.jobs > 1 {
        eprintln!(
            "note: stages run one at a time in this version; --jobs {} is ignored",
            options.jobs
        );
    }
    let runs_csv = exp_dir.join("runs.csv");
    let rows_lock = exp_dir.join("runs.csv.lock");
    // A row is reused only when its run is in this plan with the same stage keys and it
    // succeeded; rows of an edited grid or of failed runs are dropped and run again.
    let current: HashMap<&str, String> = plan
        .runs
        .iter()
        .map(|r| (r.run_id.as_str(), r.stages.join(" ")))
        .collect();
    let in_plan = |r: &Row| {
        let (Some(id), Some(keys)) = (r.get("run_id"), r.get("stage_keys")) else {
            return false;
        };
        current.get(id.as_str()) == Some(keys)
    };
    let done: std::collections::HashSet<String> = with_lock(&rows_lock, || {
        let rows = if options.fresh {
            Vec::new()
        } else {
            table::read_csv(&runs_csv)?
        };
        let ok = |r: &&Row| in_plan(r) && r.get("status").map(String::as_str) == Some("ok");
        Ok(rows
            .iter()
            .filter(ok)
            .filter_map(|r| r.get("run_id").cloned())
            .collect())
    })?;
    let mut summary = RunSummary::default();
    let mut results: HashMap<String, Result<Metrics, String>> = HashMap::new();
    let commit = git_commit();
    let axes: Vec<String> = plan.axes.clone();
    let mut middle: Vec<String> = axes.clone();
    middle.extend(table::SETTINGS.iter().map(|s| s.to_string()));
    let total_runs = plan.runs.len();
    for (pos, run) in plan.runs.iter().enumerate() {
        if let Some(s) = options.shard {
            if pos % s.count != s.index {
                continue;
            }
        }
        if done.contains(&run.run_id) {
            summary.skipped += 1;
            continue;
        }
        let started = Instant::now();
        let mut metrics = Metrics::new();
        let mut error = None;
        for key in &run.stages {
            let stage = plan
                .stage(key)
                .context("plan names a stage it does not hold")?;
            let res = results.entry(key.clone()).or_insert_with(|| {
                // One process at a time per stage: a shard that finds the stage being computed
                // waits for it and then reuses it.
                let lock = options.out_dir.join(".stages").join(format!("{key}.lock"));
                let outcome = with_lock(&lock, || {
                    if !options.fresh {
                        if let Some(m) = cached_metrics(&options.out_dir, key) {
                            return Ok((m, true));
                        }
                    }
                    execute_stage(plan, stage, options).map(|m| (m, false))
                });
                match outcome {
                    Ok((m, cached)) => {
                        if cached {
                            summary.cached_stages += 1
                        } else {
                            summary.executed_stages += 1
                        }
                        Ok(m)
                    }
                    Err(e) => {
                        summary.executed_stages += 1;
                        Err(format!("{}: {e:#}", stage.label))
                    }
                }
            });
            // With several downstream stages in a run, their metrics are told apart by name.
            let prefix = if stage.kind == StageKind::Downstream && run.downstream.len() > 1 {
                format!("{}.", stage.name)
            } else {
                String::new()
            };
            match res {
                Ok(m) => {
                    for (k, v) in m {
                        let shared = k.starts_with("data.")
                            || k.starts_with("tokenizer.")
                            || k.starts_with("pretrain_");
                        let key = if shared {
                            k.clone()
                        } else {
                            format!("{prefix}{k}")
                        };
                        metrics.insert(key, *v);
                    }
                }
                Err(e) => {
                    error = Some(e.clone());
                    break;
                }
            }
        }
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
            summary.failed += 1;
            eprintln!("run {} failed: {e}", run.run_id);
        } else {
            summary.ok += 1;
        }
        for (k, v) in &metrics {
            row.insert(k.clone(), format!("{v}"));
        }
        row.insert(
            "seconds".into(),
            format!("{:.2}", started.elapsed().as_secs_f64()),
        );
        row.insert("stage_keys".into(), run.stages.join(" "));
        row.insert("embedlab_version".into(), env!("CARGO_PKG_VERSION").into());
        row.insert("git_commit".into(), commit.clone());
        row.insert("ort_version".into(), info.version.clone());
        row.insert(
            "threads".into(),
            execute::thread_count(options.threads).to_string(),
        );
        let run_dir = exp_dir.join("runs").join(&run.run_id);
        std::fs::create_dir_all(&run_dir)?;
        if let Some(cell) = plan.cells.iter().find(|c| c.id == run.cell_id) {
            let cfg = toml::to_string(&cell.experiment).unwrap_or_default();
            let digest = <sha2::Sha256 as sha2::Digest>::digest(cfg.as_bytes());
            row.insert("config_hash".into(), hex::encode(&digest[..8]));
            std::fs::write(run_dir.join("config.toml"), cfg)?;
        }
        std::fs::write(
            run_dir.join("metrics.json"),
            serde_json::to_vec_pretty(&metrics)?,
        )?;
        // Merge into the file as it is now (other shards may have added rows), under the lock.
        with_lock(&rows_lock, || {
            let mut rows = table::read_csv(&runs_csv)?;
            rows.retain(|r| in_plan(r) && r.get("run_id") != Some(&run.run_id));
            rows.push(row);
            rows.sort_by(|a, b| a.get("run_id").cmp(&b.get("run_id")));
            table::write_csv(&runs_csv, &table::column_order(&rows, &middle), &rows)
        })?;
        if error.is_none() {
            let stages: Vec<(&str, PathBuf)> = run
                .stages
                .iter()
                .filter_map(|k| {
                    Some((
                        plan.stage(k)?.label.as_str(),
                        stage_dir(&options.out_dir, k).join(execute::CURVES_FILE),
                    ))
                })
                .collect();
            with_lock(&rows_lock, || {
                table::replace_curves(&exp_dir.join("curves.csv"), &run.run_id, &stages)
            })?;
        }
        eprintln!(
            "[{}/{}] run {} {} ({:.1}s)",
            pos + 1,
            total_runs,
            run.run_id,
            if error.is_some() { "failed" } else { "ok" },
            started.elapsed().as_secs_f64()
        );
    }
    with_lock(&rows_lock, || {
        let mut rows = table::read_csv(&runs_csv)?;
        rows.retain(|r| in_plan(r));
        table::write_csv(&runs_csv, &table::column_order(&rows, &middle), &rows)?;
        table::write_summary(&exp_dir, &rows, &middle)
    })?;
    eprintln!(
        "{}: {} ok, {} failed, {} already complete; stages: {} run, {} reused. Results in {}",
        plan.experiment_name,
        summary.ok,
        summary.failed,
        summary.skipped,
        summary.executed_stages,
        summary.cached_stages,
        exp_dir.display()
    );
    Ok(summary)
}
