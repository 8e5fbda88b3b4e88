//! summary.csv's rows: per cell, over its runs with status ok, the cell's axes and settings, the
//! number of runs and, for every metric column, its mean, sample standard deviation and the
//! half-width of its 95% confidence interval (Student's t).

use super::stats::mean_std_ci;
use super::table::{Row, is_ok, num};
use std::collections::BTreeMap;

/// A summary value: six decimals, empty when undefined (no runs, or one run's std).
fn fmt(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x:.6}")
    }
}

/// One summary row per cell over the rows with status ok: the cell's `group` columns, `n`, and
/// `<metric>_mean`, `<metric>_std`, `<metric>_ci95` for every numeric metric column.
pub fn summarize(rows: &[Row], group: &[String], metrics: &[String]) -> (Vec<String>, Vec<Row>) {
    let mut cells: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for r in rows.iter().filter(|r| is_ok(r)) {
        cells
            .entry(r.get("cell_id").cloned().unwrap_or_default())
            .or_default()
            .push(r);
    }
    let mut cols = vec!["cell_id".to_string()];
    cols.extend(group.iter().cloned());
    cols.push("n".into());
    for m in metrics {
        for s in ["mean", "std", "ci95"] {
            cols.push(format!("{m}_{s}"));
        }
    }
    let mut out = Vec::new();
    for (cell, rs) in cells {
        let mut row = Row::new();
        row.insert("cell_id".into(), cell);
        for g in group {
            if let Some(v) = rs[0].get(g) {
                row.insert(g.clone(), v.clone());
            }
        }
        row.insert("n".into(), rs.len().to_string());
        for m in metrics {
            let xs: Vec<f64> = rs.iter().filter_map(|r| num(r, m)).collect();
            let (mean, std, ci) = mean_std_ci(&xs);
            row.insert(format!("{m}_mean"), fmt(mean));
            row.insert(format!("{m}_std"), fmt(std));
            row.insert(format!("{m}_ci95"), fmt(ci));
        }
        out.push(row);
    }
    (cols, out)
}
