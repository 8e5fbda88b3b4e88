//! Reports: the grid's events and their displays, and the results a grid leaves behind.
//!
//! - `event`: what happens while a grid runs, one stream with several consumers (`Reporter`);
//! - `board`: the live progress board, one consumer of the events;
//! - `table`: the data model, the runs table of runs.csv (and summary.csv's rows): rows,
//!   columns and what each column is; `curves`: curves.csv's points;
//! - `rebuild`: the one orchestrator, summary.csv, plots/*.svg and report.md from the model;
//! - what it uses: `summary` (summary.csv's per-cell statistics), `markdown` (report.md),
//!   `paired_axes` (report.md's paired differences along the axes that are not transfer modes),
//!   `layers` (report.md's Layers section and its charts), `plots` (the sweep-axis and
//!   learning-curve charts), `chart` (a chart and its SVG), `ticks` (axis tick marks), `stats`
//!   (mean, std, Student-t intervals).
pub mod board;
mod chart;
mod curves;
pub mod event;
mod layers;
pub mod markdown;
mod paired_axes;
mod plots;
mod rebuild;
mod stats;
mod summary;
pub mod table;
mod ticks;

pub use chart::Plot;
pub use curves::{CurvePoint, read_curves, replace_curves};
pub use rebuild::{rebuild, write_plots, write_summary};
pub use stats::{mean_std_ci, t95};
pub use summary::summarize;
