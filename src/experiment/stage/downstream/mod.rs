//! The downstream stage: a task trained from scratch, on a frozen encoder, or fine-tuned from a
//! pretrained one, then tested once; the model it tested is saved in its folder
//! (`stage/saved.rs`). Its files, by concept, with imports pointing one way:
//!
//! - `stage`: what the stage reads (configuration, upstream folders);
//! - `prepared`: the dataset to fixed batches (with `long` for windows of classify, pair and
//!   tag, and `span` for extractive QA's windows and scores);
//! - `training`: one training, shared by both protocols (epoch loop, test pass, scoring);
//! - `extract` and `probes`: feature extraction and the per-layer probes;
//! - `end_to_end` and `cka`: end-to-end training and per-layer CKA;
//! - `run`: the stage itself, from the dataset to the saved model.
mod cka;
mod end_to_end;
mod extract;
mod long;
mod prepared;
mod probes;
mod run;
mod span;
mod stage;
mod training;

pub use run::train_downstream;
pub use stage::DownstreamStage;
