//! The downstream task family: everything that differs between `classify`, `pair`, `tag` and
//! `span`, one file per task, reached through exhaustive methods on
//! [`DownstreamTask`](crate::config::DownstreamTask) (`family.rs`), as the op family
//! (`graph/ops/`) is reached through its op enum. Code outside this module never compares a
//! task with `==`: it asks the task (its labels, items, head, windows rule, metrics, baseline,
//! config rules) or matches one of the family's own enums ([`Target`], [`WindowRule`])
//! exhaustively, so a new task is one file plus one variant and the compiler lists the rest.
//!
//! The config-level rules (`needs_text_pair`, `default_long`, `has_baseline`, …) read config
//! types only, which is why `config/validate` may ask them.
mod classify;
mod family;
mod pair;
mod rules;
mod span;
mod tag;

pub use rules::{Target, TaskMetrics, WindowRule};
