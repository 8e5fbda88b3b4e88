//! Planning: grid points → cells (deduplicated after normalisation) → runs (cell × seed) → the
//! stages every run needs, each under a content key, shared between runs and listed once in
//! topological order, with a rough cost estimate. Nothing is read or run here.
//!
//! - `types`: the plan, its cells, runs and stages;
//! - `build`: normalisation, deduplication of cells, the stage table;
//! - `stages`: the stages of one run (tokenizer, pretraining chains, downstream);
//! - `keys`: what a stage's content key is made of, and the hashing;
//! - `cost`: the cost model;
//! - `render`: the text `embedlab plan` prints.
mod build;
mod cost;
mod keys;
mod render;
mod stages;
mod types;

pub use build::{normalise, plan, plan_files};
pub use cost::{ASSUMED_TRAIN_EXAMPLES, CostEstimate, EFFECTIVE_GFLOPS};
pub use keys::{KEY_VERSION, canonical_json, stage_key};
pub use render::format_seconds;
pub use types::{
    AxisValue, Cell, CellKind, DataSource, NamedData, NamedKey, Plan, RunPlan, StageConfig,
    StageKind, StagePlan, run_stage_plans,
};
