//! Reports: runs.csv and summary.csv tables, and rebuilding the summary from runs.csv.
mod rebuild;
pub mod table;

pub use rebuild::rebuild;
