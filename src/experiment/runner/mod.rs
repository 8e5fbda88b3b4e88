//! Executing a plan: every stage once (reused from `<out>/.stages/<key>/` when already complete),
//! each run's row written to runs.csv as soon as its stages are done, the per-cell summary,
//! report.md and plots after the grid. A failed stage fails the runs that need it, with its
//! reason in runs.csv; the rest of the grid goes on.
//!
//! Stages form a graph (tokenizer → pretraining → downstream, per run); `--jobs N` runs up to N
//! of them at once on worker threads that share one queue. Processes (shards) and threads alike
//! take a file lock per stage and one for runs.csv.
//!
//! - `options`: what the caller asks for and gets back;
//! - `grid`: the entry point and the worker threads;
//! - `queue`: which stage is ready next, which runs are finished;
//! - `dispatch`: one stage executed (the call into its kind's executor) and committed;
//! - `store`: stage folders, their temporary and partial siblings, file locks;
//! - `results`: runs.csv rows with their provenance columns, run folders, curves, the summary.
mod dispatch;
mod grid;
mod options;
mod queue;
mod results;
mod store;

pub use grid::run_plan;
pub use options::{RunOptions, RunSummary, Shard, threads_per_job};
