//! Stages: the units of work a plan is made of, one file per kind (tokenizer, static word
//! vectors, pretraining, bag-of-words baseline; the downstream stage is a folder of its own)
//! over one [`StageContext`], computed through [`compute_stage`]. Each computes into a folder the
//! runner renames into place when it completes, and returns its metrics. The graphs a stage
//! trains are built by [`graphs::stage_graphs`], which `embedlab graph` calls too.
mod baseline;
mod compute;
mod context;
mod downstream;
pub mod files;
mod graphs;
mod inputs;
mod pretrain;
mod saved;
mod tokenizer;
mod transfer;
mod vectors;
mod written;

pub use baseline::BASELINE_FILE;
pub use compute::{compute_stage, pretrained_is_causal};
pub use context::{Metrics, StageContext, thread_count};
pub use graphs::{
    DUMP_GRAPHS_ENV, GraphShape, Protocol, Role, StageGraphs, Upstream, downstream_shape,
    pretrain_shape, stage_graphs,
};
pub use saved::{SavedHead, read_saved_head, save_downstream_model};
pub use tokenizer::fit_tokenizer;
pub use transfer::{initial_params, transferred};
pub use vectors::{STATIC_WORD, load_static_vectors, train_static_vectors};
pub use written::write_stage_graphs;
