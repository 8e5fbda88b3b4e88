//! What a caller asks of the runner (results folder, jobs, cache use, threads, shard) and what it
//! gets back (counts of runs and stages).

use super::super::stage;
use std::path::PathBuf;

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

/// Intra-op threads of each of `jobs` stages running at once: the configured (or available)
/// threads divided among them, at least one. One job keeps the configuration as it is.
pub fn threads_per_job(threads: Option<usize>, jobs: usize) -> Option<usize> {
    if jobs <= 1 {
        threads
    } else {
        Some((stage::thread_count(threads) / jobs).max(1))
    }
}
