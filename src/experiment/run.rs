//! Executing a plan. **Stub**: the lead writes the real runner (scheduler, jobs, shards, resume,
//! events); this file fixes the interface the command line calls.

use super::plan::Plan;
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
}

/// Executes every run of `plan` (or of its shard). **Stub**: not implemented yet.
pub fn run_plan(plan: &Plan, options: &RunOptions) -> anyhow::Result<RunSummary> {
    let _ = (plan, options);
    anyhow::bail!("running experiments is not implemented yet (see src/experiment/run.rs)")
}
