//! Executing a plan: every stage once (reused from `<out>/.stages/<key>/` when already complete),
//! each run's row written to runs.csv as soon as its stages are done, the per-cell summary,
//! report.md and plots after the grid. A failed stage fails the runs that need it, with its
//! reason in runs.csv; the rest of the grid goes on.
//!
//! Stages form a graph (tokenizer → pretraining → downstream, per run); `--jobs N` runs up to N
//! of them at once on worker threads that share one queue. A worker takes the first stage, in
//! the plan's order of runs, whose parents have all succeeded, so a stage shared by many runs
//! runs once and `--jobs 1` keeps the run-by-run order. The intra-op threads are divided among
//! the jobs. Processes (shards) and threads alike take a file lock per stage and one for runs.csv.
use super::plan::{Plan, RunPlan, StageConfig, StageKind, StagePlan};
use super::stage::{self, Metrics, StageContext, files};
use crate::report::board::{Board, StageBar};
use crate::report::table::{self, Row};
use crate::train::Progress;
use anyhow::{Context, Result};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
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

/// What a stage reports, passed on to its bar on the board; learning-curve points are kept for
/// the stage's curves.csv.
struct StageProgress<'b> {
    bar: StageBar<'b>,
    /// Learning-curve points: (split, metric, step, value).
    points: std::cell::RefCell<Vec<(String, String, u64, f64)>>,
}

impl Progress for StageProgress<'_> {
    fn point(&self, split: &str, metric: &str, step: u64, value: f64) {
        self.points
            .borrow_mut()
            .push((split.to_string(), metric.to_string(), step, value));
    }

    fn step(&self, step: u64, total: u64, loss: f64) {
        self.bar.step(step, total, loss);
    }
}

fn stage_dir(out: &Path, key: &str) -> PathBuf {
    out.join(".stages").join(key)
}

/// Executes one stage into a temporary directory renamed into place on success.
fn execute_stage(
    plan: &Plan,
    stage: &StagePlan,
    options: &RunOptions,
    board: &Board,
) -> Result<Metrics> {
    let out = &options.out_dir;
    let dir = stage_dir(out, &stage.key);
    let tmp = out
        .join(".stages")
        .join(format!("{}.tmp-{}", stage.key, std::process::id()));
    remove_stale_tmp(out, &stage.key)?;
    std::fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    // A stage of one run (a downstream stage) names the run: with --jobs several run at once.
    let label = match stage.runs.as_slice() {
        [run] => format!("{} ({run})", stage.label),
        _ => stage.label.clone(),
    };
    let progress = StageProgress {
        bar: board.stage(&label),
        points: Default::default(),
    };
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
            stage::static_vectors(&key_dir(tok_key), fit_on, enc.d_model, &dir, threads)
        })
        .map(Some)
    };
    let vectors = match &stage.config {
        StageConfig::Tokenizer { .. } => Ok(None),
        StageConfig::Pretrain {
            embeddings,
            encoder,
            tokenizer,
            ..
        }
        | StageConfig::Downstream {
            embeddings,
            encoder,
            tokenizer,
            ..
        } => vectors(embeddings, encoder, tokenizer),
    };
    let stages = out.join(".stages");
    let kind = match stage.kind {
        StageKind::Tokenizer => "tokenizer",
        StageKind::Pretrain => "pretrain",
        StageKind::Downstream => "downstream",
    };
    let stem = format!("{kind}_{}", stage.name);
    let metrics = vectors.and_then(|v| {
        let ctx = StageContext {
            plan,
            stages: &stages,
            dir: &tmp,
            resume_dir: &resume,
            threads,
            vectors: v.as_deref(),
            stem: &stem,
            progress: &progress,
        };
        stage::compute_stage(&stage.config, &ctx)
    });
    let metrics = match metrics {
        Ok(m) => m,
        Err(e) => {
            progress.bar.finish("failed");
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    std::fs::write(
        tmp.join(files::METRICS),
        serde_json::to_vec_pretty(&metrics)?,
    )?;
    let mut curves = csv::Writer::from_path(tmp.join(files::CURVES))?;
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
    progress.bar.finish("done");
    Ok(metrics)
}

/// Removes `<key>.tmp-<pid>` folders that processes killed while executing the stage left
/// behind. The caller holds the stage's lock, so no live process is writing one of them.
fn remove_stale_tmp(out: &Path, key: &str) -> Result<()> {
    let prefix = format!("{key}.tmp-");
    let Ok(entries) = std::fs::read_dir(out.join(".stages")) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            std::fs::remove_dir_all(entry.path())
                .with_context(|| format!("removing {}", entry.path().display()))?;
        }
    }
    Ok(())
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
    let bytes = std::fs::read(stage_dir(out, key).join(files::METRICS)).ok()?;
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
    if let Some(d) = run.downstream.first()
        && let Some(dc) = e.downstream.get(&d.name)
    {
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

/// What became of a stage: its metrics, or the error that failed it (with the stage's label).
type StageOutcome = std::result::Result<Metrics, String>;

enum StageState {
    Waiting,
    Running,
    Done(StageOutcome),
}

/// The work queue of a grid: stage states, and the runs still to finish in plan order. Workers
/// take the first stage, in plan order of the runs needing it, whose parents have all succeeded;
/// so one worker executes stages exactly in the order a plain run-by-run loop would.
struct Queue<'p> {
    states: HashMap<&'p str, StageState>,
    /// Positions in `plan.runs` of the runs still to finish.
    pending: Vec<usize>,
    /// When each run's first stage was taken.
    started: HashMap<usize, Instant>,
    running: usize,
    /// An error that stops the grid (writing runs.csv failed, a broken plan).
    fatal: Option<anyhow::Error>,
}

/// A run whose stages are all done, or one of which failed.
struct FinishedRun {
    pos: usize,
    metrics: Metrics,
    error: Option<String>,
    seconds: f64,
}

impl<'p> Queue<'p> {
    fn new(plan: &'p Plan, pending: Vec<usize>) -> Queue<'p> {
        let states = pending
            .iter()
            .flat_map(|&i| plan.runs[i].stages.iter())
            .map(|k| (k.as_str(), StageState::Waiting))
            .collect();
        Queue {
            states,
            pending,
            started: HashMap::new(),
            running: 0,
            fatal: None,
        }
    }

    fn succeeded(&self, key: &str) -> bool {
        matches!(self.states.get(key), Some(StageState::Done(Ok(_))))
    }

    /// The next stage to execute, marked running.
    fn take(&mut self, plan: &'p Plan) -> Option<&'p str> {
        let mut found = None;
        'runs: for &i in &self.pending {
            for key in &plan.runs[i].stages {
                match self.states.get(key.as_str()) {
                    Some(StageState::Waiting) => {
                        let ready = plan
                            .stage(key)
                            .is_some_and(|s| s.parents.iter().all(|p| self.succeeded(p)));
                        if ready {
                            found = Some((i, key.as_str()));
                            break 'runs;
                        }
                    }
                    Some(StageState::Done(Err(_))) => continue 'runs,
                    _ => {}
                }
            }
        }
        let (i, key) = found?;
        self.started.entry(i).or_insert_with(Instant::now);
        self.states.insert(key, StageState::Running);
        self.running += 1;
        Some(key)
    }

    /// Records a stage's outcome; returns the runs that are finished now, removed from `pending`.
    fn done(&mut self, plan: &'p Plan, key: &'p str, outcome: StageOutcome) -> Vec<FinishedRun> {
        self.states.insert(key, StageState::Done(outcome));
        self.running -= 1;
        let mut finished = Vec::new();
        let mut still = Vec::new();
        for &i in &self.pending {
            match self.outcome_of(plan, &plan.runs[i]) {
                Some((metrics, error)) => {
                    let seconds = self
                        .started
                        .get(&i)
                        .map_or(0.0, |t| t.elapsed().as_secs_f64());
                    finished.push(FinishedRun {
                        pos: i,
                        metrics,
                        error,
                        seconds,
                    });
                }
                None => still.push(i),
            }
        }
        self.pending = still;
        finished
    }

    /// A run's metrics and error once its stages are all done or one (the first, in the run's
    /// order) failed; `None` while it waits. With several downstream stages in a run, their
    /// metrics are told apart by name.
    fn outcome_of(&self, plan: &Plan, run: &RunPlan) -> Option<(Metrics, Option<String>)> {
        let mut metrics = Metrics::new();
        for key in &run.stages {
            let m = match self.states.get(key.as_str()) {
                Some(StageState::Done(Ok(m))) => m,
                Some(StageState::Done(Err(e))) => return Some((metrics, Some(e.clone()))),
                _ => return None,
            };
            let stage = plan.stage(key)?;
            let prefix = if stage.kind == StageKind::Downstream && run.downstream.len() > 1 {
                format!("{}.", stage.name)
            } else {
                String::new()
            };
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
        Some((metrics, None))
    }
}

/// Everything the workers of one grid share.
struct Grid<'a> {
    plan: &'a Plan,
    /// The caller's options with the intra-op threads of one job.
    options: RunOptions,
    exp_dir: PathBuf,
    runs_csv: PathBuf,
    rows_lock: PathBuf,
    /// Axes and settings columns.
    middle: Vec<String>,
    /// Stage keys of every run in the plan, by run id.
    current: HashMap<&'a str, String>,
    commit: String,
    ort_version: String,
    board: Board,
    summary: Mutex<RunSummary>,
    queue: Mutex<Queue<'a>>,
    wake: Condvar,
}

impl<'a> Grid<'a> {
    /// A row is reused only when its run is in this plan with the same stage keys.
    fn in_plan(&self, r: &Row) -> bool {
        let (Some(id), Some(keys)) = (r.get("run_id"), r.get("stage_keys")) else {
            return false;
        };
        self.current.get(id.as_str()) == Some(keys)
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Queue<'a>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A worker: takes ready stages until every run is finished (or the grid stopped).
    fn work(&self) {
        loop {
            let key = {
                let mut q = self.lock_queue();
                loop {
                    if q.fatal.is_some() || q.pending.is_empty() {
                        return;
                    }
                    if let Some(key) = q.take(self.plan) {
                        break key;
                    }
                    if q.running == 0 {
                        q.fatal = Some(anyhow::anyhow!(
                            "no stage of the remaining runs can start (the plan names a stage it does not hold)"
                        ));
                        self.wake.notify_all();
                        return;
                    }
                    q = self.wake.wait(q).unwrap_or_else(|e| e.into_inner());
                }
            };
            let outcome = self.stage(key);
            let finished = self.lock_queue().done(self.plan, key, outcome);
            self.wake.notify_all();
            for run in finished {
                if let Err(e) = self.finish_run(run) {
                    let mut q = self.lock_queue();
                    q.fatal.get_or_insert(e);
                    self.wake.notify_all();
                    return;
                }
            }
        }
    }

    /// Executes a stage, or reuses its outputs. One process at a time per stage: a shard that
    /// finds the stage being computed waits for it and then reuses it.
    fn stage(&self, key: &str) -> StageOutcome {
        let Some(stage) = self.plan.stage(key) else {
            return Err(format!("stage {key} is not in the plan"));
        };
        let out = &self.options.out_dir;
        let lock = out.join(".stages").join(format!("{key}.lock"));
        let outcome = with_lock(&lock, || {
            if !self.options.fresh
                && let Some(m) = cached_metrics(out, key)
            {
                return Ok((m, true));
            }
            execute_stage(self.plan, stage, &self.options, &self.board).map(|m| (m, false))
        });
        let mut summary = self.summary.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Ok((m, cached)) => {
                if cached {
                    summary.cached_stages += 1;
                    self.board.stage_cached();
                } else {
                    summary.executed_stages += 1;
                }
                Ok(m)
            }
            Err(e) => {
                summary.executed_stages += 1;
                Err(format!("{}: {e:#}", stage.label))
            }
        }
    }

    /// Writes a finished run's row (merged into runs.csv under its lock), its folder and its
    /// learning curves.
    fn finish_run(&self, finished: FinishedRun) -> Result<()> {
        let FinishedRun {
            pos,
            metrics,
            error,
            seconds,
        } = finished;
        let (plan, run) = (self.plan, &self.plan.runs[pos]);
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
        for (k, v) in &metrics {
            row.insert(k.clone(), format!("{v}"));
        }
        row.insert("seconds".into(), format!("{seconds:.2}"));
        row.insert("stage_keys".into(), run.stages.join(" "));
        row.insert("embedlab_version".into(), env!("CARGO_PKG_VERSION").into());
        row.insert("git_commit".into(), self.commit.clone());
        row.insert("ort_version".into(), self.ort_version.clone());
        row.insert(
            "threads".into(),
            stage::thread_count(self.options.threads).to_string(),
        );
        let run_dir = self.exp_dir.join("runs").join(&run.run_id);
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
        // Merge into the file as it is now (other shards and workers may have added rows), under
        // the lock (an advisory file lock, which also excludes the other threads of this process).
        with_lock(&self.rows_lock, || {
            let mut rows = table::read_csv(&self.runs_csv)?;
            rows.retain(|r| self.in_plan(r) && r.get("run_id") != Some(&run.run_id));
            rows.push(row);
            rows.sort_by(|a, b| a.get("run_id").cmp(&b.get("run_id")));
            table::write_csv(
                &self.runs_csv,
                &table::column_order(&rows, &self.middle),
                &rows,
            )
        })?;
        if error.is_none() {
            let out = &self.options.out_dir;
            let stages: Vec<(&str, PathBuf)> = run
                .stages
                .iter()
                .filter_map(|k| {
                    Some((
                        plan.stage(k)?.label.as_str(),
                        stage_dir(out, k).join(files::CURVES),
                    ))
                })
                .collect();
            with_lock(&self.rows_lock, || {
                table::replace_curves(&self.exp_dir.join("curves.csv"), &run.run_id, &stages)
            })?;
        }
        let mut summary = self.summary.lock().unwrap_or_else(|e| e.into_inner());
        if error.is_some() {
            summary.failed += 1
        } else {
            summary.ok += 1
        }
        drop(summary);
        let status = if error.is_some() { "failed" } else { "ok" };
        let line = format!(
            "[{}/{}] run {} {status} ({seconds:.1}s)",
            pos + 1,
            plan.runs.len(),
            run.run_id
        );
        self.board
            .run_finished(&run.run_id, error.as_deref(), &line);
        Ok(())
    }
}

/// Intra-op threads of each of `jobs` stages running at once: the configured (or available)
/// threads divided among them, at least one. One job keeps the configuration as it is.
pub fn threads_per_job(threads: Option<usize>, jobs: usize) -> Option<usize> {
    if jobs <= 1 {
        threads
    } else {
        Some((stage::thread_count(threads) / jobs).max(1))
    }
}

/// Executes every run of `plan` (or of its shard), with up to `options.jobs` stages at once.
pub fn run_plan(plan: &Plan, options: &RunOptions) -> Result<RunSummary> {
    let exp_dir = options.out_dir.join(&plan.experiment_name);
    std::fs::create_dir_all(exp_dir.join("runs"))
        .with_context(|| format!("cannot create the output directory {}", exp_dir.display()))?;
    let info = crate::runtime::init()?;
    let jobs = options.jobs.max(1);
    let mut middle: Vec<String> = plan.axes.clone();
    middle.extend(table::SETTINGS.iter().map(|s| s.to_string()));
    let (runs_csv, rows_lock) = (exp_dir.join("runs.csv"), exp_dir.join("runs.csv.lock"));
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
    // Rows of runs that succeeded with the same stage keys are kept; rows of an edited grid or
    // of failed runs are dropped and run again.
    let done: HashSet<String> = with_lock(&rows_lock, || {
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
    let mut skipped = 0;
    let mut pending = Vec::new();
    for (pos, run) in plan.runs.iter().enumerate() {
        if options.shard.is_some_and(|s| pos % s.count != s.index) {
            continue;
        }
        if done.contains(&run.run_id) {
            skipped += 1;
        } else {
            pending.push(pos);
        }
    }
    let workers = jobs.min(pending.len()).max(1);
    let grid = Grid {
        plan,
        options: RunOptions {
            threads: threads_per_job(options.threads, jobs),
            ..options.clone()
        },
        exp_dir: exp_dir.clone(),
        runs_csv: runs_csv.clone(),
        rows_lock: rows_lock.clone(),
        middle: middle.clone(),
        current: current.clone(),
        commit: git_commit(),
        ort_version: info.version.clone(),
        board: Board::new(pending.len() as u64),
        summary: Mutex::new(RunSummary::default()),
        queue: Mutex::new(Queue::new(plan, pending)),
        wake: Condvar::new(),
    };
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| grid.work());
        }
    });
    grid.board.finish();
    if let Some(e) = grid
        .queue
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .fatal
    {
        return Err(e);
    }
    let mut summary = grid.summary.into_inner().unwrap_or_else(|e| e.into_inner());
    summary.skipped = skipped;
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
