//! Rebuilding summary.csv and report.md from runs.csv. **Stub** so the command line links; the
//! report module's owner replaces it.

use std::path::Path;

/// Rebuilds the summary and report of the results folder `dir` (merging shards). Not implemented yet.
pub fn rebuild(dir: &Path) -> anyhow::Result<()> {
    anyhow::bail!(
        "rebuilding reports is not implemented yet (asked for {})",
        dir.display()
    )
}
