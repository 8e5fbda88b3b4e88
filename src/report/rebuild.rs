//! `embedlab report DIR`: rebuilds summary.csv, plots/*.svg and report.md from the runs.csv and
//! curves.csv in DIR.

use std::path::Path;

/// Rebuilds the summary, plots and report of the results folder `dir` from its runs.csv.
pub fn rebuild(dir: &Path) -> anyhow::Result<()> {
    super::table::rebuild_summary(dir)?;
    eprintln!(
        "wrote {}, {} and {}",
        dir.join("summary.csv").display(),
        dir.join("report.md").display(),
        dir.join("plots").display()
    );
    Ok(())
}
