//! `embedlab report DIR`: rebuilds summary.csv from the runs.csv in DIR.

use std::path::Path;

/// Rebuilds the summary of the results folder `dir` from its runs.csv.
pub fn rebuild(dir: &Path) -> anyhow::Result<()> {
    super::table::rebuild_summary(dir)?;
    eprintln!("wrote {}", dir.join("summary.csv").display());
    Ok(())
}
