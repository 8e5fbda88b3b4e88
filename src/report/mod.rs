//! Reports: runs.csv and summary.csv tables, report.md, plots, the live board, and rebuilding
//! them from runs.csv.
pub mod board;
mod layers;
pub mod markdown;
mod paired_axes;
pub mod plots;
mod rebuild;
pub mod table;
mod ticks;

pub use rebuild::rebuild;
