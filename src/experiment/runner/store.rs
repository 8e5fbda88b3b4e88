//! The stage store under `<out>/.stages/`: one folder per stage key, complete or absent. A stage
//! is written into `<key>.tmp-<pid>` and renamed into place once its metrics, learning curves and,
//! last, its manifest (every file's size and sha256) are written; a long stage's periodic
//! checkpoints wait in `<key>.partial` until then. A stage is reused only when its files match
//! its manifest; a damaged one is moved aside to `<out>/.damaged/` and computed again. File
//! locks (`<key>.lock`, runs.csv.lock) let threads and processes (shards) take turns.

use super::super::manifest::{verify_stage, write_manifest};
use super::super::stage::{self, Metrics, files::METRICS as METRICS_FILE};
use crate::fsio;
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

/// Writes a finished stage's metrics and learning curves into `tmp`, then its manifest, renames
/// `tmp` to `dir` (replacing an older copy) and drops the stage's periodic checkpoints in
/// `resume`. On failure `tmp` is removed, so no partial stage is left behind.
pub(super) fn commit_stage(
    tmp: &Path,
    dir: &Path,
    resume: &Path,
    metrics: &Metrics,
    points: &[CurvePoint],
) -> Result<()> {
    let written = write_outputs(tmp, dir, metrics, points);
    if let Err(e) = written {
        let e = explain_failure(e, dir, tmp);
        let _ = std::fs::remove_dir_all(tmp);
        return Err(e);
    }
    let _ = std::fs::remove_dir_all(resume);
    Ok(())
}

fn write_outputs(tmp: &Path, dir: &Path, metrics: &Metrics, points: &[CurvePoint]) -> Result<()> {
    let metrics_path = tmp.join(METRICS_FILE);
    std::fs::write(&metrics_path, serde_json::to_vec_pretty(metrics)?)
        .with_context(|| format!("writing {}", metrics_path.display()))?;
    let curves_path = tmp.join(stage::files::CURVES);
    let write_curves = || -> Result<()> {
        let mut curves = csv::Writer::from_path(&curves_path)?;
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
        Ok(())
    };
    write_curves().with_context(|| format!("writing {}", curves_path.display()))?;
    let key = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    write_manifest(tmp, &key).context("writing the stage's manifest")?;
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::rename(tmp, dir).with_context(|| format!("moving {} into place", dir.display()))?;
    // Make the rename durable; best effort (not every file system allows it).
    if let Some(parent) = dir.parent()
        && let Ok(d) = std::fs::File::open(parent)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// A stage that failed because its file system is full says so: which folder, how much it had
/// written there and how much is free. Other errors pass unchanged.
pub(super) fn explain_failure(e: anyhow::Error, dir: &Path, tmp: &Path) -> anyhow::Error {
    if !fsio::is_storage_full(e.as_ref()) {
        return e;
    }
    let written = fsio::tree_size(tmp);
    let free = fsio::available_space(tmp)
        .map(|n| format!("{n} bytes are free"))
        .unwrap_or_else(|| "the free space is unknown".into());
    let root = dir.parent().unwrap_or(dir);
    e.context(format!(
        "no space left on the file system holding {}: the stage needed more than the {written} \
         bytes it had written into {} ({free}); it was discarded, free some space and run again",
        root.display(),
        tmp.display()
    ))
}

/// Moves a damaged stage folder out of the store, to `<out>/.damaged/<key>.<seconds>-<pid>`,
/// and returns where it went (or the error, when it could only be deleted or not even that).
fn move_aside(out: &Path, key: &str) -> std::result::Result<PathBuf, String> {
    let dir = stage_dir(out, key);
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let aside = out
        .join(".damaged")
        .join(format!("{key}.{secs}-{}", std::process::id()));
    let moved =
        std::fs::create_dir_all(out.join(".damaged")).and_then(|()| std::fs::rename(&dir, &aside));
    match moved {
        Ok(()) => Ok(aside),
        Err(e) => match std::fs::remove_dir_all(&dir) {
            Ok(()) => Err(format!("could not be moved aside ({e}), deleted")),
            Err(e2) => Err(format!("could not be moved aside ({e}) nor deleted ({e2})")),
        },
    }
}

/// The metrics of a complete, intact stage in the store, if there is one. A stage whose files
/// do not match its manifest is never used: it is moved aside, `damaged` is told what was wrong
/// (naming the file) and where the folder went, and `None` makes the caller compute the stage
/// again. The caller holds the stage's lock.
pub(super) fn cached_metrics(
    out: &Path,
    key: &str,
    damaged: impl Fn(&str, &str),
) -> Option<Metrics> {
    let dir = stage_dir(out, key);
    if !dir.is_dir() {
        return None;
    }
    let damage = match verify_stage(&dir, key) {
        Ok(_) => match std::fs::read(dir.join(METRICS_FILE))
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        {
            Ok(metrics) => return Some(metrics),
            Err(e) => format!("{METRICS_FILE}: {e}"),
        },
        Err(d) => d.to_string(),
    };
    let whereto = match move_aside(out, key) {
        Ok(path) => format!("moved aside to {}", path.display()),
        Err(e) => e,
    };
    damaged(&damage, &whereto);
    None
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
