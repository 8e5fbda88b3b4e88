//! `embedlab report` and `embedlab verify`: a results folder's reports rebuilt, and its stages
//! and runs checked.

use super::failure::{Failure, fail, invalid};
use super::stdout::print_stdout;
use std::path::Path;

/// summary.csv, the plots and report.md rebuilt from runs.csv and curves.csv in `dir`.
pub fn report(dir: &Path) -> Result<(), Failure> {
    if !dir.is_dir() {
        return Err(invalid(format!(
            "{}: no such results folder",
            dir.display()
        )));
    }
    embedlab::report::rebuild(dir).map_err(|e| fail(format!("report {}: {e:#}", dir.display())))
}

/// `verify DIR`: 0 when nothing is damaged, 1 when something is, 2 when DIR is no results folder.
pub fn verify(dir: &Path) -> Result<(), Failure> {
    let report = embedlab::experiment::verify::verify_results(dir).map_err(invalid)?;
    print_stdout(&report.render())?;
    if report.is_clean() {
        Ok(())
    } else {
        Err(Failure::Damaged)
    }
}
