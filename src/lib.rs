//! embedlab: an experiment runner for NLP transfer-learning ablations.
//!
//! Module map (dependency arrows point down; nothing imports upward):
//!
//! ```text
//! main.rs / cli        clap; maps errors to exit codes
//! experiment           spec -> plan (cells, stages, keys) -> execution -> events
//! report               consumes events: progress, runs.csv, summary.csv
//! train                optimizer schedule and the training step over runtime sessions
//! interop              BERT-family import, standalone ONNX export of an encoder, embedding texts
//! baseline             the bag-of-words baseline (TF-IDF + logistic regression; most frequent tag)
//! metrics              pure metric functions (accuracy, macro-F1, span F1)
//! model                embeddings, encoder, heads, losses, tasks; builds graphs with `graph`
//! data                 sources, filters, tokenizers, datasets, batching, masking
//! runtime              the ONLY user of `ort`: library loading, sessions, parameter store, checkpoints
//! graph                our IR, ops (forward + backward side by side), autodiff, export to ONNX
//! config               serde types of the experiment file, defaults, validation (leaf)
//! fsio                 atomic file writes, used by report and runtime (leaf)
//! ```
pub mod baseline;
pub mod bench;
pub mod config;
pub mod data;
pub mod decode;
pub mod experiment;
pub mod fsio;
pub mod graph;
pub mod interop;
pub mod metrics;
pub mod model;
pub mod report;
pub mod runtime;
pub mod task;
pub mod train;
