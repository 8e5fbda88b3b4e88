//! report.md: the summary as a table (mean ± 95% CI of the test metrics per cell, and whether
//! each interval includes pretraining variance), the paired differences between transfer modes
//! (per seed, e.g. finetune − scratch) and along the other axes (`paired_axes`), each model cell
//! against the bag-of-words baseline, the plots, and the failed runs.

use super::chart::Plot;
use super::layers;
use super::stats::mean_std_ci;
use super::table::{
    BOW, PRETRAIN_KEYS, Row, SETTINGS, is_bow, is_failed, is_ok, is_transfer, is_transfer_axis,
    num, test_metrics,
};
use crate::metrics::{Column, Metric, Split};
use std::collections::BTreeMap;
use std::fmt::Write;

/// Whether column `c` takes more than one value over `rows`.
pub(super) fn varies<'a>(rows: impl IntoIterator<Item = &'a Row>, c: &str) -> bool {
    let vals: std::collections::BTreeSet<&str> = rows
        .into_iter()
        .filter_map(|r| r.get(c).map(String::as_str))
        .collect();
    vals.len() > 1
}

/// Whether the 95% interval over a cell's runs (`rs`, one per seed) includes the variance of
/// pretraining: yes when every pretraining stage of the cell trained once per seed
/// (`replicate = true`), no when the seeds share them. Read from the runs' `pretrain_keys`.
pub fn pretraining_variance(rs: &[&Row]) -> String {
    let n = rs.len();
    let Some(first) = rs.first() else {
        return String::new();
    };
    if is_bow(first) {
        return "not applicable (deterministic: one fit, the same in every seed's row)".into();
    }
    let keys: Option<Vec<Vec<&str>>> = rs
        .iter()
        .map(|r| Some(r.get(PRETRAIN_KEYS)?.split_whitespace().collect()))
        .collect();
    let Some(keys) = keys else {
        return if first.get("pretrain").map(String::as_str) == Some("none") {
            "not applicable (no pretraining)".into()
        } else {
            format!("not recorded (runs.csv has no {PRETRAIN_KEYS})")
        };
    };
    if n < 2 {
        return "no interval (one seed)".into();
    }
    let stages = keys.iter().map(Vec::len).max().unwrap_or(0);
    let at = |i: usize| -> std::collections::BTreeSet<&str> {
        keys.iter().filter_map(|k| k.get(i).copied()).collect()
    };
    let shared = (0..stages).filter(|&i| at(i).len() == 1).count();
    let own = (0..stages).filter(|&i| at(i).len() == n).count();
    if own == stages {
        format!("yes: {n} pretrainings, one per seed")
    } else if shared == stages {
        format!("no, all {n} seeds share one pretrained encoder")
    } else {
        format!("partly: the {n} seeds share {shared} of the {stages} pretraining stages")
    }
}

pub(super) fn fmt_ci(xs: &[f64]) -> String {
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
    let ok: Vec<&Row> = rows.iter().filter(|r| is_ok(r)).collect();
    let failed: Vec<&Row> = rows.iter().filter(|r| is_failed(r)).collect();
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
    header.push("pretraining variance in the CI".into());
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
        line.push(pretraining_variance(rs));
        let _ = writeln!(out, "| {} |", line.join(" | "));
    }
    let _ = writeln!(
        out,
        "\nThe last column says whether a cell's interval includes the variance of pretraining: only when every seed pretrained its own encoder (`replicate = true`). When the seeds share one pretrained encoder, the interval covers fine-tuning seeds only, and a difference is a statement about that one encoder."
    );
    if ok.iter().any(|r| is_bow(r)) {
        let _ = writeln!(
            out,
            "\nCells with `transfer` = {BOW} are the bag-of-words baseline, trained on the same splits (TF-IDF + logistic regression with C picked on dev; words marked by side for pairs; the most frequent tag per word for tagging). It is deterministic: one fit, repeated in one row per seed with identical figures, so its interval is 0."
        );
    }

    // Paired differences: cells equal in everything but the transfer mode, matched by seed.
    let transfer_col = group.iter().find(|c| c.as_str() == "transfer");
    if let (Some(tc), Some(metric)) = (transfer_col, metrics.first()) {
        let others: Vec<&String> = group.iter().filter(|c| !is_transfer(c)).collect();
        let mut groups: BTreeMap<Vec<String>, Vec<&Row>> = BTreeMap::new();
        for r in ok.iter().filter(|r| !is_bow(r)) {
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
            .filter(|r| r.get(tc).map(String::as_str) != Some("scratch") && !is_bow(r))
            .collect();
        let tvarying: Vec<&String> = group
            .iter()
            .filter(|c| is_transfer(c) && *c != tc && !is_transfer_axis(c))
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
                    "| {t} − scratch | {} | {} | {} | {} |",
                    context.join(", "),
                    d.len(),
                    fmt_ci(&d),
                    pretraining_variance(crs)
                ));
            }
        }
        if !lines.is_empty() {
            let _ = writeln!(out, "\n## Paired differences ({metric})\n");
            let _ = writeln!(
                out,
                "Each difference pairs two runs with the same seed and the same settings but the transfer mode. A scratch run has no pretraining, so a difference's interval includes pretraining variance exactly when the transferred cell's does.\n"
            );
            let _ = writeln!(
                out,
                "| comparison | other settings | pairs | difference | pretraining variance in the CI |"
            );
            let _ = writeln!(out, "|---|---|---|---|---|");
            for l in lines {
                let _ = writeln!(out, "{l}");
            }
        }
    }

    out.push_str(&super::paired_axes::section(&ok, group));

    against_bow(&mut out, &ok, group, &varying, &metrics);

    out.push_str(&layers::section(&ok, &varying));

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

/// `## Against the bag-of-words baseline`: every model cell's accuracy metrics minus those of
/// the baseline cell beside it. A baseline row stands beside a model row when it has the same
/// metric (the same downstream stage) and agrees with it on every sweep axis it keeps (it keeps
/// those that change its data). The baseline is deterministic, so a difference's interval is the
/// model cell's own.
fn against_bow(
    out: &mut String,
    ok: &[&Row],
    group: &[String],
    varying: &[&String],
    metrics: &[String],
) {
    let bow: Vec<&Row> = ok.iter().copied().filter(|r| is_bow(r)).collect();
    if bow.is_empty() {
        return;
    }
    let axes: Vec<&String> = group
        .iter()
        .filter(|c| !SETTINGS.contains(&c.as_str()) && !is_transfer_axis(c))
        .collect();
    let beside = |model: &Row, b: &Row| {
        axes.iter()
            .all(|c| b.get(*c).is_none_or(|v| model.get(*c) == Some(v)))
    };
    let mut cells: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in ok.iter().copied().filter(|r| !is_bow(r)) {
        cells
            .entry(r.get("cell_id").map(String::as_str).unwrap_or(""))
            .or_default()
            .push(r);
    }
    let mut lines = Vec::new();
    let accuracy = |m: &String| {
        Column::parse(m)
            .is_some_and(|c| (c.split, c.metric) == (Some(Split::Test), Metric::Accuracy))
    };
    for metric in metrics.iter().filter(|m| accuracy(m)) {
        for (cell, rs) in &cells {
            let Some(b) = bow
                .iter()
                .find(|b| num(b, metric).is_some() && beside(rs[0], b))
            else {
                continue;
            };
            let (Some(base), xs) = (
                num(b, metric),
                rs.iter()
                    .filter_map(|r| num(r, metric))
                    .collect::<Vec<f64>>(),
            ) else {
                continue;
            };
            if xs.is_empty() {
                continue;
            }
            let d: Vec<f64> = xs.iter().map(|x| x - base).collect();
            // The sweep axes that tell model cells apart.
            let settings: Vec<String> = varying
                .iter()
                .filter(|c| !SETTINGS.contains(&c.as_str()))
                .filter_map(|c| Some(format!("{c} = {}", rs[0].get(*c)?)))
                .collect();
            lines.push(format!(
                "| {metric} | {cell} | {} | {} | {base:.4} | {} | {} |",
                settings.join(", "),
                fmt_ci(&xs),
                fmt_ci(&d),
                pretraining_variance(rs)
            ));
        }
    }
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## Against the bag-of-words baseline\n");
    let _ = writeln!(
        out,
        "Each model cell minus the bag-of-words cell trained on the same splits. The baseline is deterministic (the same figure for every seed), so a difference's interval is the model cell's own.\n"
    );
    let _ = writeln!(
        out,
        "| metric | cell | settings | model | bag-of-words | difference | pretraining variance in the CI |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for l in lines {
        let _ = writeln!(out, "{l}");
    }
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

    /// A row of `cell` for `seed` with its pretraining stage keys (none for scratch).
    fn keyed(cell: &str, transfer: &str, seed: u32, keys: &[&str], acc: f64) -> Row {
        let mut r = run(cell, "A", transfer, seed, acc);
        r.insert(
            "pretrain".into(),
            if keys.is_empty() { "none" } else { "A" }.into(),
        );
        if !keys.is_empty() {
            r.insert(PRETRAIN_KEYS.into(), keys.join(" "));
        }
        r
    }

    /// report.md says for every interval whether it includes pretraining variance: yes when each
    /// seed pretrained its own encoder, no when the seeds share one, not applicable for scratch
    /// and for the deterministic baseline; in the summary and in the paired differences.
    #[test]
    fn each_interval_says_whether_it_includes_pretraining_variance() {
        let mut rows = Vec::new();
        for seed in [1, 2, 3] {
            let s = seed as f64 / 100.0;
            rows.push(keyed("c001", "scratch", seed, &[], 0.30 + s));
            // Shared: every seed fine-tunes the same pretrained encoder.
            rows.push(keyed("c002", "finetune", seed, &["aaaa"], 0.40 + s));
            // Replicated: one pretraining per seed.
            let own = format!("b{seed}");
            rows.push(keyed("c003", "frozen", seed, &[own.as_str()], 0.35 + s));
            let mut bow = keyed("c004", BOW, seed, &[], 0.33);
            bow.insert("downstream.C.transfer".into(), BOW.into());
            rows.push(bow);
        }
        let cell = |id: &str| -> Vec<&Row> {
            rows.iter()
                .filter(|r| r.get("cell_id").map(String::as_str) == Some(id))
                .collect()
        };
        assert_eq!(
            pretraining_variance(&cell("c001")),
            "not applicable (no pretraining)"
        );
        assert_eq!(
            pretraining_variance(&cell("c002")),
            "no, all 3 seeds share one pretrained encoder"
        );
        assert_eq!(
            pretraining_variance(&cell("c003")),
            "yes: 3 pretrainings, one per seed"
        );
        assert!(pretraining_variance(&cell("c004")).starts_with("not applicable (deterministic"));

        let group: Vec<String> = ["downstream.C.transfer", "pretrain", "transfer"]
            .map(String::from)
            .to_vec();
        let md = render("t", &rows, &group, &[]);
        assert!(
            md.contains("| c002 | finetune | A | finetune | 3 | 0.4200 ± 0.0248 | no, all 3 seeds share one pretrained encoder |"),
            "{md}"
        );
        assert!(
            md.contains("| c003 | frozen | A | frozen | 3 | 0.3700 ± 0.0248 | yes: 3 pretrainings, one per seed |"),
            "{md}"
        );
        assert!(
            md.contains("| finetune − scratch |  | 3 | 0.1000 ± 0.0000 | no, all 3 seeds share one pretrained encoder |"),
            "{md}"
        );
        assert!(
            md.contains(
                "| frozen − scratch |  | 3 | 0.0500 ± 0.0000 | yes: 3 pretrainings, one per seed |"
            ),
            "{md}"
        );
        // The baseline is not a transfer mode: no "bow − scratch" line, but every model cell
        // against it (0.42 − 0.33 on average for the shared finetune cell).
        assert!(!md.contains("bow − scratch"), "{md}");
        assert!(
            md.contains("| test_accuracy | c002 | downstream.C.transfer = finetune | 0.4200 ± 0.0248 | 0.3300 | 0.0900 ± 0.0248 | no, all 3 seeds share one pretrained encoder |"),
            "{md}"
        );
    }
}
