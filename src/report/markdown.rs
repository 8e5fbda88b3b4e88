//! report.md: the summary as a table (mean ± 95% CI of the test metrics per cell), the paired
//! differences between transfer modes (per seed, e.g. finetune − scratch), the plots, and the
//! failed runs.

use super::plots::Plot;
use super::table::{Row, mean_std_ci};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Columns that name the transfer mode, or that a scratch run normalises away (which pretraining,
/// how many layers): pairs of runs may differ in these.
fn is_transfer(c: &str) -> bool {
    ["transfer", "pretrain", "layers"].contains(&c)
        || [".transfer", ".from", ".layers"]
            .iter()
            .any(|s| c.ends_with(s))
}

/// Whether column `c` takes more than one value over `rows`.
fn varies<'a>(rows: impl IntoIterator<Item = &'a Row>, c: &str) -> bool {
    let vals: std::collections::BTreeSet<&str> = rows
        .into_iter()
        .filter_map(|r| r.get(c).map(String::as_str))
        .collect();
    vals.len() > 1
}

/// The test metrics present, `test_accuracy` and `test_macro_f1` first.
pub fn test_metrics(rows: &[Row]) -> Vec<String> {
    let mut cols: Vec<String> = rows
        .iter()
        .flat_map(|r| r.keys())
        .filter(|k| k.contains("test_accuracy") || k.contains("test_macro_f1"))
        .cloned()
        .collect();
    cols.sort();
    cols.dedup();
    cols
}

fn num(r: &Row, c: &str) -> Option<f64> {
    r.get(c)?.parse::<f64>().ok().filter(|x| x.is_finite())
}

fn fmt_ci(xs: &[f64]) -> String {
    let (m, _, ci) = mean_std_ci(xs);
    if xs.is_empty() {
        "–".into()
    } else if ci.is_nan() {
        format!("{m:.4}")
    } else {
        format!("{m:.4} ± {ci:.4}")
    }
}

/// Renders report.md from the rows of runs.csv; `group` are the axes and settings columns,
/// `plots` the charts written beside it.
pub fn render(name: &str, rows: &[Row], group: &[String], plots: &[Plot]) -> String {
    let ok: Vec<&Row> = rows
        .iter()
        .filter(|r| r.get("status").map(String::as_str) == Some("ok"))
        .collect();
    let failed: Vec<&Row> = rows
        .iter()
        .filter(|r| r.get("status").map(String::as_str) == Some("failed"))
        .collect();
    let metrics = test_metrics(rows);
    // Axes and settings that vary between cells: the columns worth showing.
    let varying: Vec<&String> = group.iter().filter(|c| varies(rows, c)).collect();
    let mut out = String::new();
    let _ = writeln!(out, "# {name}\n");
    let _ = writeln!(
        out,
        "{} runs: {} ok, {} failed. Values are mean ± half-width of the 95% confidence interval (Student's t) over seeds.\n",
        rows.len(),
        ok.len(),
        failed.len()
    );

    let _ = writeln!(out, "## Summary\n");
    let mut header = vec!["cell".to_string()];
    header.extend(varying.iter().map(|c| format!("`{c}`")));
    header.push("n".into());
    header.extend(metrics.iter().cloned());
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
    let mut cells: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in &ok {
        cells
            .entry(r.get("cell_id").map(String::as_str).unwrap_or(""))
            .or_default()
            .push(r);
    }
    for (cell, rs) in &cells {
        let mut line = vec![cell.to_string()];
        line.extend(
            varying
                .iter()
                .map(|c| rs[0].get(*c).cloned().unwrap_or_default()),
        );
        line.push(rs.len().to_string());
        for m in &metrics {
            let xs: Vec<f64> = rs.iter().filter_map(|r| num(r, m)).collect();
            line.push(fmt_ci(&xs));
        }
        let _ = writeln!(out, "| {} |", line.join(" | "));
    }

    // Paired differences: cells equal in everything but the transfer mode, matched by seed.
    let transfer_col = group.iter().find(|c| c.as_str() == "transfer");
    if let (Some(tc), Some(metric)) = (transfer_col, metrics.first()) {
        let others: Vec<&String> = group.iter().filter(|c| !is_transfer(c)).collect();
        let mut groups: BTreeMap<Vec<String>, Vec<&Row>> = BTreeMap::new();
        for r in &ok {
            let key = others
                .iter()
                .map(|c| r.get(*c).cloned().unwrap_or_default())
                .collect();
            groups.entry(key).or_default().push(r);
        }
        // Within a group, every transferred cell (several when `from` or `layers` vary) is
        // compared with the group's scratch runs on its own line, named by the transfer settings
        // that differ between transferred runs.
        let transferred: Vec<&Row> = ok
            .iter()
            .copied()
            .filter(|r| r.get(tc).map(String::as_str) != Some("scratch"))
            .collect();
        let tvarying: Vec<&String> = group
            .iter()
            .filter(|c| is_transfer(c) && *c != tc && !c.ends_with(".transfer"))
            .filter(|c| varies(transferred.iter().copied(), c))
            .collect();
        let mut lines = Vec::new();
        for (key, rs) in &groups {
            let is = |r: &Row, t: &str| r.get(tc).map(String::as_str) == Some(t);
            let base: BTreeMap<String, f64> = rs
                .iter()
                .filter(|r| is(r, "scratch"))
                .filter_map(|r| Some((r.get("seed")?.clone(), num(r, metric)?)))
                .collect();
            let mut cells: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
            for r in rs.iter().filter(|r| !is(r, "scratch")) {
                let cell = r.get("cell_id").cloned().unwrap_or_default();
                cells.entry(cell).or_default().push(r);
            }
            for crs in cells.values() {
                let t = crs[0].get(tc).cloned().unwrap_or_default();
                let d: Vec<f64> = crs
                    .iter()
                    .filter_map(|r| Some(num(r, metric)? - base.get(r.get("seed")?)?))
                    .collect();
                if d.is_empty() {
                    continue;
                }
                let mut context: Vec<String> = others
                    .iter()
                    .zip(key)
                    .filter(|(c, _)| varying.contains(c))
                    .map(|(c, v)| format!("{c} = {v}"))
                    .collect();
                // What tells this cell apart from the other transferred cells of the group.
                context.extend(
                    tvarying
                        .iter()
                        .map(|c| format!("{c} = {}", crs[0].get(*c).cloned().unwrap_or_default())),
                );
                lines.push(format!(
                    "| {t} − scratch | {} | {} | {} |",
                    context.join(", "),
                    d.len(),
                    fmt_ci(&d)
                ));
            }
        }
        if !lines.is_empty() {
            let _ = writeln!(out, "\n## Paired differences ({metric})\n");
            let _ = writeln!(
                out,
                "Each difference pairs two runs with the same seed and the same settings but the transfer mode.\n"
            );
            let _ = writeln!(out, "| comparison | other settings | pairs | difference |");
            let _ = writeln!(out, "|---|---|---|---|");
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
        }
    }

    if !plots.is_empty() {
        let _ = writeln!(out, "\n## Plots\n");
        for p in plots {
            let _ = writeln!(out, "![{}]({})\n", p.title, p.file);
        }
    }

    if !failed.is_empty() {
        let _ = writeln!(out, "\n## Failed runs\n");
        for r in &failed {
            let _ = writeln!(
                out,
                "- `{}`: {}",
                r.get("run_id").map(String::as_str).unwrap_or("?"),
                r.get("error").map(String::as_str).unwrap_or("")
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cell: &str, from: &str, transfer: &str, seed: u32, acc: f64) -> Row {
        [
            ("run_id", format!("{cell}-s{seed}")),
            ("cell_id", cell.to_string()),
            ("seed", seed.to_string()),
            ("status", "ok".to_string()),
            ("downstream.C.from", from.to_string()),
            ("downstream.C.transfer", transfer.to_string()),
            ("transfer", transfer.to_string()),
            ("test_accuracy", acc.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Two pretrainings share one scratch cell: each transferred cell gets its own line, paired
    /// with the scratch run of its seed (they used to overwrite each other).
    #[test]
    fn each_transferred_cell_is_paired_with_scratch_on_its_own_line() {
        let mut rows = Vec::new();
        for seed in [1, 2] {
            let s = seed as f64 / 100.0;
            rows.push(run("c001", "A", "scratch", seed, 0.30 + s));
            rows.push(run("c002", "A", "finetune", seed, 0.20 + s));
            rows.push(run("c003", "B", "finetune", seed, 0.40 + s));
        }
        let group: Vec<String> = ["downstream.C.from", "downstream.C.transfer", "transfer"]
            .map(String::from)
            .to_vec();
        let md = render("t", &rows, &group, &[]);
        assert!(
            md.contains("| finetune − scratch | downstream.C.from = A | 2 | -0.1000 ± 0.0000 |"),
            "{md}"
        );
        assert!(
            md.contains("| finetune − scratch | downstream.C.from = B | 2 | 0.1000 ± 0.0000 |"),
            "{md}"
        );
    }
}
