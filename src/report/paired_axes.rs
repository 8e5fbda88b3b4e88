//! `## Paired differences along an axis`: for every sweep axis that is not a transfer setting
//! (`pretrain.*.pack`, `embeddings.position`, ...), each value against every earlier one, in
//! cells equal in everything else, matched by seed, for every test and dev accuracy in the rows
//! (one per downstream stage when there are several). The transfer − scratch table of
//! `markdown` is the same idea for the transfer mode.

use super::markdown::{fmt_ci, pretraining_variance, varies};
use super::table::{Row, SETTINGS, is_bow, is_transfer, num};
use crate::metrics::{Column, Metric, Split};
use std::collections::BTreeMap;
use std::fmt::Write;

/// The columns compared: every downstream stage's test and dev accuracy and exact match,
/// sorted (not the per-layer probes, which the Layers section compares).
fn compared(rows: &[&Row]) -> Vec<String> {
    let mut cols: Vec<String> = rows
        .iter()
        .flat_map(|r| r.keys())
        .filter(|k| {
            Column::parse(k).is_some_and(|c| {
                c.layer.is_none()
                    && matches!(c.split, Some(Split::Test | Split::Dev))
                    && matches!(c.metric, Metric::Accuracy | Metric::ExactMatch)
            })
        })
        .cloned()
        .collect();
    cols.sort();
    cols.dedup();
    cols
}

/// Whether a cell's runs and another's include pretraining variance alike; the one answer, or
/// both when they differ.
fn variance(a: &[&Row], b: &[&Row]) -> String {
    let (va, vb) = (pretraining_variance(a), pretraining_variance(b));
    if va == vb { va } else { format!("{va} / {vb}") }
}

/// The section, or nothing when no such axis varies.
pub fn section(ok: &[&Row], group: &[String]) -> String {
    let model: Vec<&Row> = ok.iter().copied().filter(|r| !is_bow(r)).collect();
    let axes: Vec<&String> = group
        .iter()
        .filter(|c| !SETTINGS.contains(&c.as_str()) && !is_transfer(c))
        .filter(|c| varies(model.iter().copied(), c))
        .collect();
    let metrics = compared(&model);
    let mut out = String::new();
    for axis in axes {
        let others: Vec<&String> = group.iter().filter(|c| *c != axis).collect();
        // Cells by the other settings, then by this axis's value in grid order (cell ids follow
        // the grid, first axis slowest).
        let mut groups: BTreeMap<Vec<String>, Vec<(String, Vec<&Row>)>> = BTreeMap::new();
        let mut by_cell: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
        for r in &model {
            by_cell
                .entry(r.get("cell_id").map(String::as_str).unwrap_or(""))
                .or_default()
                .push(r);
        }
        for rs in by_cell.into_values() {
            let key: Vec<String> = others
                .iter()
                .map(|c| rs[0].get(*c).cloned().unwrap_or_default())
                .collect();
            let value = rs[0].get(axis).cloned().unwrap_or_default();
            groups.entry(key).or_default().push((value, rs));
        }
        // The other axes that vary name a pair's group; the settings columns only repeat
        // them (and speak for the first downstream stage alone).
        let varying: Vec<&&String> = others
            .iter()
            .filter(|c| !SETTINGS.contains(&c.as_str()) && varies(model.iter().copied(), c))
            .collect();
        let mut tables = Vec::new();
        for metric in &metrics {
            let mut lines = Vec::new();
            for (key, cells) in &groups {
                let context: Vec<String> = others
                    .iter()
                    .zip(key)
                    .filter(|(c, _)| varying.contains(c))
                    .map(|(c, v)| format!("{c} = {v}"))
                    .collect();
                for (j, (vb, b)) in cells.iter().enumerate() {
                    for (va, a) in &cells[..j] {
                        let base: BTreeMap<&String, f64> = a
                            .iter()
                            .filter_map(|r| Some((r.get("seed")?, num(r, metric)?)))
                            .collect();
                        let d: Vec<f64> = b
                            .iter()
                            .filter_map(|r| Some(num(r, metric)? - base.get(r.get("seed")?)?))
                            .collect();
                        if d.is_empty() {
                            continue;
                        }
                        lines.push(format!(
                            "| {vb} − {va} | {} | {} | {} | {} |",
                            context.join(", "),
                            d.len(),
                            fmt_ci(&d),
                            variance(a, b)
                        ));
                    }
                }
            }
            if !lines.is_empty() {
                tables.push((metric, lines));
            }
        }
        if tables.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n## Paired differences along `{axis}`\n");
        let _ = writeln!(
            out,
            "Each difference pairs two runs with the same seed and the same settings but `{axis}`: every value against each earlier one, in the grid's order.\n"
        );
        for (metric, lines) in tables {
            let _ = writeln!(out, "### {metric}\n");
            let _ = writeln!(
                out,
                "| comparison | other settings | pairs | difference | pretraining variance in the CI |"
            );
            let _ = writeln!(out, "|---|---|---|---|---|");
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(cell: &str, pack: &str, transfer: &str, seed: u32, acc: f64) -> Row {
        [
            ("cell_id", cell.to_string()),
            ("seed", seed.to_string()),
            ("status", "ok".into()),
            ("pretrain.*.pack", pack.into()),
            ("downstream.*.transfer", transfer.into()),
            ("transfer", transfer.into()),
            ("L.test_accuracy", acc.to_string()),
            ("L.dev_accuracy", (acc / 2.0).to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    #[test]
    fn every_value_against_each_earlier_one_by_seed() {
        let mut rows = Vec::new();
        for seed in 1..=3 {
            let s = seed as f64 / 100.0;
            rows.push(run("c1", "false", "frozen", seed, 0.5 + s));
            rows.push(run("c2", "false", "finetune", seed, 0.6 + s));
            rows.push(run("c3", "masked", "frozen", seed, 0.7 + s));
            rows.push(run("c4", "masked", "finetune", seed, 0.6 + 2.0 * s));
        }
        let ok: Vec<&Row> = rows.iter().collect();
        let group: Vec<String> = ["pretrain.*.pack", "downstream.*.transfer", "transfer"]
            .map(String::from)
            .to_vec();
        let md = section(&ok, &group);
        assert!(
            md.contains("## Paired differences along `pretrain.*.pack`"),
            "{md}"
        );
        assert!(md.contains("### L.test_accuracy"), "{md}");
        // frozen: masked − false is 0.2 for every seed; finetune: 0.01, 0.02, 0.03.
        assert!(
            md.contains(
                "| masked − false | downstream.*.transfer = frozen | 3 | 0.2000 ± 0.0000 |"
            ),
            "{md}"
        );
        assert!(
            md.contains(
                "| masked − false | downstream.*.transfer = finetune | 3 | 0.0200 ± 0.0248 |"
            ),
            "{md}"
        );
        assert!(md.contains("### L.dev_accuracy"), "{md}");
        // The transfer mode is not an axis of this section, nor a settings column.
        assert!(!md.contains("along `downstream.*.transfer`"), "{md}");
        assert!(!md.contains("along `transfer`"), "{md}");
        // Nothing to pair: no section.
        assert_eq!(section(&ok[..1], &group), "");
    }
}
