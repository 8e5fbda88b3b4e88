//! Reports: runs.csv and summary.csv tables, report.md, and rebuilding them from runs.csv.
pub mod markdown;
mod rebuild;
pub mod table;

pub use rebuild::rebuild;
