//! Experiments: a loaded spec becomes a plan (cells, runs, stages under content keys), and a plan
//! is executed.
//!
//! - `check`: checks before compute that read files (data, ONNX Runtime, the results folder);
//! - `data_report`, `truncation`: the data and truncation sections of `embedlab plan`;
//! - `plan`: grid points → deduplicated cells → runs → shared stages, with cost estimates;
//! - `stage`: one stage (tokenizer, static vectors, pretraining, downstream) into its directory;
//! - `runner`: the whole plan, stages shared and cached, on worker threads, rows to runs.csv;
//! - `manifest`: each stage's list of files, sizes and sha256, checked before a stage is reused;
//! - `verify`: `embedlab verify`, the check of a results folder's stages and runs.
pub mod artifacts;
mod check;
mod convert;
mod data_report;
pub mod imports;
pub mod manifest;
mod plan;
mod runner;
pub mod stage;
mod truncation;
pub mod verify;

pub use check::{CheckError, check_data, check_output, check_supported, preflight};
pub use convert::{encoder_spec, optim_spec};
pub use data_report::{DataReportError, data_report};
pub use plan::{
    ASSUMED_TRAIN_EXAMPLES, AxisValue, Cell, CostEstimate, DataSource, EFFECTIVE_GFLOPS,
    KEY_VERSION, NamedData, NamedKey, Plan, RunPlan, StageConfig, StageKind, StagePlan,
    canonical_json, format_seconds, normalise, plan, plan_files, run_stage_plans, stage_key,
};
pub use runner::{RunOptions, RunSummary, Shard, run_plan, threads_per_job};
pub use stage::write_stage_graphs;
pub use truncation::truncation_report;
