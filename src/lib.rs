//! embedlab: an experiment runner for NLP transfer-learning ablations.
//!
//! The module map (what each module is responsible for, and which way the dependencies point)
//! is docs/ARCHITECTURE.md §1, the one map of the code. In short: the binary's `cmd` parses
//! arguments; `experiment` plans and runs a grid, emitting events (`report::event`) that the
//! progress board and the results writer consume; `task` is the downstream task family;
//! `model` builds graphs with `graph`, which `runtime` (the only user of `ort`) runs.
pub mod baseline;
pub mod bench;
pub mod config;
pub mod data;
pub mod decode;
pub mod experiment;
pub mod export;
pub mod fsio;
pub mod graph;
pub mod interop;
pub mod metrics;
pub mod model;
pub mod predict;
pub mod report;
pub mod runtime;
pub mod task;
pub mod train;
