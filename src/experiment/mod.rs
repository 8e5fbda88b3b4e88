//! Experiments: a loaded spec becomes a plan (cells, runs, stages under content keys), and a plan
//! is executed.
//!
//! - `check`: checks before compute that read files (data, ONNX Runtime, the results folder);
//! - `plan`: grid points → deduplicated cells → runs → shared stages, with cost estimates;
//! - `execute`: one stage (tokenizer, pretraining, downstream) into its directory;
//! - `runner`: the whole plan, stages shared and cached, on worker threads, rows to runs.csv.
pub mod artifacts;
mod check;
pub mod execute;
pub mod imports;
mod plan;
mod runner;
pub mod vectors;

pub use check::{CheckError, check_data, check_output, check_supported, preflight};
pub use execute::write_stage_graphs;
pub use plan::{
    ASSUMED_TRAIN_EXAMPLES, AxisValue, Cell, CostEstimate, DataSource, EFFECTIVE_GFLOPS,
    KEY_VERSION, NamedData, NamedKey, Plan, RunPlan, StageConfig, StageKind, StagePlan,
    canonical_json, format_seconds, normalise, plan, plan_files, run_stage_plans, stage_key,
};
pub use runner::{RunOptions, RunSummary, Shard, run_plan, threads_per_job};
