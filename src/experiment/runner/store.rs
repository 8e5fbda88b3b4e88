//! The stage store under `<out>/.stages/`: one folder per stage key, complete or absent. A stage
//! is written into `<key>.tmp-<pid>` and renamed into place once its metrics and learning curves
//! are written; a long stage's periodic checkpoints wait in `<key>.partial` until then. File
//! locks (`<key>.lock`, runs.csv.lock) let threads and processes (shards) take turns.

use super::super::stage::{self, Metrics, files::METRICS as METRICS_FILE};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Learning-curve points of a stage: (split, metric, step, value).
pub(super) type CurvePoint = (String, String, u64, f64);

/// The folder of a complete stage.
pub(super) fn stage_dir(out: &Path, key: &str) -> PathBuf {
    out.join(".stages").join(key)
}

/// The folder this process writes a stage into before renaming it into place.
pub(super) fn tmp_dir(out: &Path, key: &str) -> PathBuf {
    out.join(".stages")
        .join(format!("{}.tmp-{}", key, std::process::id()))
}

/// Periodic checkpoints of a long stage live here until it completes (not per process, so a
/// rerun after a crash continues from them).
pub(super) fn partial_dir(out: &Path, key: &str) -> PathBuf {
    out.join(".stages").join(format!("{key}.partial"))
}

/// The lock file a stage is executed (or reused) under.
pub(super) fn stage_lock(out: &Path, key: &str) -> PathBuf {
    out.join(".stages").join(format!("{key}.lock"))
}

/// Removes `<key>.tmp-<pid>` folders that processes killed while executing the stage left
/// behind. The caller holds the stage's lock, so no live process is writing one of them.
pub(super) fn remove_stale_tmp(out: &Path, key: &str) -> Result<()> {
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

/// Writes a finished stage's metrics and learning curves into `tmp`, renames `tmp` to `dir`
/// (replacing an older copy) and drops the stage's periodic checkpoints in `resume`.
pub(super) fn commit_stage(
    tmp: &Path,
    dir: &Path,
    resume: &Path,
    metrics: &Metrics,
    points: &[CurvePoint],
) -> Result<()> {
    std::fs::write(tmp.join(METRICS_FILE), serde_json::to_vec_pretty(metrics)?)?;
    let mut curves = csv::Writer::from_path(tmp.join(stage::files::CURVES))?;
    curves.write_record(["step", "split", "metric", "value"])?;
    for (split, metric, step, value) in points {
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
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::rename(tmp, dir).with_context(|| format!("moving {} into place", dir.display()))?;
    let _ = std::fs::remove_dir_all(resume);
    Ok(())
}

/// The metrics of a complete stage in the store, if there is one.
pub(super) fn cached_metrics(out: &Path, key: &str) -> Option<Metrics> {
    let bytes = std::fs::read(stage_dir(out, key).join(METRICS_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Runs `f` holding an exclusive advisory lock on the file `path` (created if missing), so that
/// processes sharing a results directory (shards) take turns.
pub(super) fn with_lock<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
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
