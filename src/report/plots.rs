//! The charts of the runs table and of the learning curves:
//! - per sweep axis and test metric, `<metric>_by_<axis>.svg`: the metric's mean over seeds at
//!   each value of the axis with its 95% confidence interval (Student's t) as an error bar, one
//!   series per combination of the other axes' values. A numeric axis (depth, a learning rate)
//!   joins a series' points by a line; a categorical one (a transfer mode, a task, a position
//!   kind: any axis with a value that is not a number) draws points and error bars only, side by
//!   side, since a line through categories would suggest an order that is not there;
//! - per stage, split and metric of curves.csv, `curve_<stage>_<split>_<metric>.svg`: the
//!   learning curve of every run (runs with the same curve, e.g. sharing a pretraining, are
//!   drawn once).
//!
//! The Layers charts are [`super::layers`]'; drawing is [`super::chart`]'s.

use super::chart::{Chart, Series, XAxis, file_part};
use super::curves::CurvePoint;
use super::stats::mean_std_ci;
use super::table::Row;
use std::collections::BTreeMap;

/// Learning-curve points of one run: (step, value).
type Points = Vec<(f64, f64)>;
/// A learning curve's stage, split and metric.
type CurveKey = (String, String, String);

/// A chart per sweep axis and metric (in that order) over the runs `rows` (those with status
/// ok), for the axes along which a metric has values.
pub(super) fn axis_charts(rows: &[&Row], axes: &[String], metrics: &[String]) -> Vec<Chart> {
    let mut charts = Vec::new();
    for axis in axes {
        for metric in metrics {
            if let Some(chart) = axis_chart(rows, axis, axes, metric) {
                charts.push(chart);
            }
        }
    }
    charts
}

/// The metric per value of `axis`, a series per combination of the other axes' values.
pub(super) fn axis_chart(
    rows: &[&Row],
    axis: &str,
    axes: &[String],
    metric: &str,
) -> Option<Chart> {
    // Axis values in order of first appearance (the sweep's order); numerically when all are numbers.
    let mut values: Vec<String> = Vec::new();
    for r in rows {
        if let Some(v) = r.get(axis)
            && !values.contains(v)
        {
            values.push(v.clone());
        }
    }
    let numeric = values.iter().all(|v| v.parse::<f64>().is_ok());
    if numeric {
        values.sort_by(|a, b| {
            a.parse::<f64>()
                .unwrap_or(0.0)
                .total_cmp(&b.parse::<f64>().unwrap_or(0.0))
        });
    }
    let others: Vec<&String> = axes.iter().filter(|a| a.as_str() != axis).collect();
    // series name → axis value → metric values over seeds
    let mut groups: Vec<(String, BTreeMap<usize, Vec<f64>>)> = Vec::new();
    for r in rows {
        let (Some(v), Some(y)) = (
            r.get(axis),
            r.get(metric).and_then(|y| y.parse::<f64>().ok()),
        ) else {
            continue;
        };
        if !y.is_finite() {
            continue;
        }
        let name = if others.is_empty() {
            metric.to_string()
        } else {
            others
                .iter()
                .map(|o| format!("{o} = {}", r.get(*o).map(String::as_str).unwrap_or("–")))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let x = values.iter().position(|x| x == v)?;
        let at = match groups.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                groups.push((name, BTreeMap::new()));
                groups.len() - 1
            }
        };
        groups[at].1.entry(x).or_default().push(y);
    }
    if groups.is_empty() {
        return None;
    }
    // Series side by side around each category, so their error bars do not overlap.
    let n = groups.len() as f64;
    let width = (0.6 / n).min(0.15);
    let series = groups
        .into_iter()
        .enumerate()
        .map(|(i, (name, by_x))| {
            let offset = (i as f64 - (n - 1.0) / 2.0) * width;
            let points = by_x
                .into_iter()
                .map(|(x, ys)| {
                    let (mean, _, ci) = mean_std_ci(&ys);
                    (x as f64 + offset, mean, ci)
                })
                .collect();
            Series { name, points }
        })
        .collect();
    Some(Chart {
        file: format!("{}_by_{}.svg", file_part(metric), file_part(axis)),
        title: format!("{metric} by {axis} (mean ± 95% CI over seeds)"),
        x_desc: axis.to_string(),
        y_desc: metric.to_string(),
        x: if numeric {
            XAxis::Numeric(values)
        } else {
            XAxis::Categorical(values)
        },
        series,
    })
}

/// Learning curves from curves.csv's points: a chart per stage, split and metric, a series per
/// run; runs with the same points (a shared stage, or a dev accuracy that did not move) are one
/// series named after the first of them.
pub(super) fn curve_charts(all: &[CurvePoint]) -> Vec<Chart> {
    // (stage, split, metric) in order of first appearance (a run's stages in order), → run → points
    let mut curves: Vec<(CurveKey, BTreeMap<String, Points>)> = Vec::new();
    for p in all {
        let key = (p.stage.clone(), p.split.clone(), p.metric.clone());
        let at = match curves.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                curves.push((key, BTreeMap::new()));
                curves.len() - 1
            }
        };
        curves[at]
            .1
            .entry(p.run_id.clone())
            .or_default()
            .push((p.step, p.value));
    }
    // Pretraining before the downstream stages that build on it.
    curves.sort_by_key(|((stage, _, _), _)| !stage.starts_with("pretrain"));
    let mut charts = Vec::new();
    for ((stage, split, metric), runs) in curves {
        let mut distinct: Vec<(Vec<String>, Points)> = Vec::new();
        for (run, mut points) in runs {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            match distinct.iter_mut().find(|(_, p)| *p == points) {
                Some((names, _)) => names.push(run),
                None => distinct.push((vec![run], points)),
            }
        }
        let series = distinct
            .into_iter()
            .map(|(names, points)| Series {
                name: match names.len() {
                    1 => names[0].clone(),
                    n => format!("{} (+{} runs, same curve)", names[0], n - 1),
                },
                points: points.into_iter().map(|(x, y)| (x, y, f64::NAN)).collect(),
            })
            .collect();
        charts.push(Chart {
            file: format!(
                "curve_{}_{}_{}.svg",
                file_part(&stage),
                file_part(&split),
                file_part(&metric)
            ),
            title: format!("{stage}: {split} {metric}"),
            x_desc: "step".into(),
            y_desc: format!("{split} {metric}"),
            x: XAxis::Steps,
            series,
        });
    }
    charts
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A finished run's row with a depth, a transfer mode and a test accuracy.
    pub(crate) fn row(cell: &str, seed: &str, depth: &str, transfer: &str, acc: &str) -> Row {
        [
            ("run_id", format!("{cell}-s{seed}")),
            ("cell_id", cell.into()),
            ("seed", seed.into()),
            ("status", "ok".into()),
        ]
        .into_iter()
        .chain([
            ("encoder.depth", depth.into()),
            ("transfer", transfer.into()),
            ("test_accuracy", acc.into()),
        ])
        .map(|(k, v): (&str, String)| (k.to_string(), v))
        .collect()
    }

    #[test]
    fn axis_chart_has_a_series_per_other_axis_value_with_intervals() {
        let rows = [
            row("c001", "1", "2", "scratch", "0.5"),
            row("c001", "2", "2", "scratch", "0.7"),
            row("c002", "1", "1", "scratch", "0.4"),
            row("c003", "1", "2", "finetune", "0.8"),
        ];
        let refs: Vec<&Row> = rows.iter().collect();
        let axes = ["encoder.depth".to_string(), "transfer".to_string()];
        let c = axis_chart(&refs, "encoder.depth", &axes, "test_accuracy").unwrap();
        assert_eq!(c.file, "test_accuracy_by_encoder.depth.svg");
        // Numeric values are sorted.
        assert_eq!(c.x, XAxis::Numeric(vec!["1".into(), "2".into()]));
        let names: Vec<&str> = c.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["transfer = scratch", "transfer = finetune"]);
        // scratch at depth 2: two seeds, mean 0.6 with an interval; depth 1: one seed, no interval.
        let scratch = &c.series[0].points;
        assert_eq!(scratch.len(), 2);
        assert!((scratch[1].1 - 0.6).abs() < 1e-12 && scratch[1].2.is_finite());
        assert!(scratch[0].2.is_nan());
    }
}
