//! The Layers section of report.md and its two charts, from the `probe_layers` columns of
//! runs.csv: per cell, the probe's test accuracy on each layer (feature extraction) and each
//! layer's CKA between the starting and the trained encoder (runs that train it), each as the
//! mean over seeds with its 95% confidence interval (Student's t).

use super::chart::{Chart, Series, XAxis};
use super::stats::mean_std_ci;
use super::table::{Row, layer_column};
use crate::metrics::{Column, Metric, Split};
use std::collections::BTreeMap;
use std::fmt::Write;

/// A per-layer measurement reported: the metric of its `layer<k>_...` columns, and a title.
struct Measure {
    column: Column<'static>,
    title: &'static str,
}

impl Measure {
    /// Its columns' name after `layer<k>_` (`test_accuracy`, `cka`): its chart's file name.
    fn name(&self) -> String {
        self.column.to_string()
    }

    /// Whether the layer column `c` holds this measurement.
    fn holds(&self, c: &Column) -> bool {
        (c.split, c.metric) == (self.column.split, self.column.metric)
    }

    /// Its chart's y axis: a measurement on a split is named by its column, as the axis charts
    /// name theirs (`test_accuracy`); one on no split by the metric's label (`linear CKA`).
    fn y_desc(&self) -> String {
        match self.column.split {
            Some(_) => self.name(),
            None => self.column.metric.label().into(),
        }
    }
}

/// The per-layer measurements reported.
const MEASURES: [Measure; 2] = [
    Measure {
        column: Column::of(Some(Split::Test), Metric::Accuracy),
        title: "Probe test accuracy by layer",
    },
    Measure {
        column: Column::of(None, Metric::Cka),
        title: "CKA of each layer before and after training",
    },
];

/// Per cell (in cell order, named by the varying settings): layer → values over seeds.
fn by_cell(
    rows: &[&Row],
    group: &[&String],
    measure: &Measure,
) -> Vec<(String, BTreeMap<usize, Vec<f64>>)> {
    let mut cells: BTreeMap<&str, (String, BTreeMap<usize, Vec<f64>>)> = BTreeMap::new();
    for r in rows {
        for (c, v) in r.iter() {
            let Some((k, m)) = layer_column(c) else {
                continue;
            };
            let Ok(y) = v.parse::<f64>() else { continue };
            if !measure.holds(&m) || !y.is_finite() {
                continue;
            }
            let cell = r.get("cell_id").map(String::as_str).unwrap_or("");
            let entry = cells.entry(cell).or_insert_with(|| {
                let name: Vec<String> = group
                    .iter()
                    .map(|g| format!("{g} = {}", r.get(*g).map(String::as_str).unwrap_or("–")))
                    .collect();
                let name = if name.is_empty() {
                    cell.to_string()
                } else {
                    format!("{cell}: {}", name.join(", "))
                };
                (name, BTreeMap::new())
            });
            entry.1.entry(k).or_default().push(y);
        }
    }
    cells.into_values().collect()
}

/// `## Layers`: a table per measure, a row per cell, a column per layer; empty without
/// `probe_layers` columns. `group` are the columns that tell the cells apart.
pub(super) fn section(rows: &[&Row], group: &[&String]) -> String {
    let mut out = String::new();
    for measure in &MEASURES {
        let cells = by_cell(rows, group, measure);
        let Some(depth) = cells.iter().flat_map(|(_, m)| m.keys().copied()).max() else {
            continue;
        };
        if out.is_empty() {
            let _ = writeln!(
                out,
                "\n## Layers\n\nLayer 0 is the embeddings' output, layer k encoder layer k's; mean ± half-width of the 95% CI over seeds.\n"
            );
        }
        let _ = writeln!(out, "### {}\n", measure.title);
        let mut header = vec!["cell".to_string()];
        header.extend((0..=depth).map(|k| format!("layer {k}")));
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(out, "|{}", "---|".repeat(header.len()));
        for (name, by_layer) in &cells {
            let mut line = vec![name.clone()];
            for k in 0..=depth {
                line.push(match by_layer.get(&k) {
                    None => "–".into(),
                    Some(xs) => {
                        let (m, _, ci) = mean_std_ci(xs);
                        if ci.is_nan() {
                            format!("{m:.4}")
                        } else {
                            format!("{m:.4} ± {ci:.4}")
                        }
                    }
                });
            }
            let _ = writeln!(out, "| {} |", line.join(" | "));
        }
        let _ = writeln!(out);
    }
    out
}

/// `layers_test_accuracy.svg` and `layers_cka.svg`: a line per cell over the layers, with the
/// 95% CI over seeds as error bars.
pub(super) fn layer_charts(rows: &[&Row], group: &[String]) -> Vec<Chart> {
    let varying: Vec<&String> = group
        .iter()
        .filter(|c| {
            let mut vals = rows.iter().filter_map(|r| r.get(*c));
            vals.next().is_some_and(|first| vals.any(|v| v != first))
        })
        .collect();
    let mut charts = Vec::new();
    for measure in &MEASURES {
        let cells = by_cell(rows, &varying, measure);
        let Some(depth) = cells.iter().flat_map(|(_, m)| m.keys().copied()).max() else {
            continue;
        };
        let series = cells
            .into_iter()
            .map(|(name, by_layer)| Series {
                name,
                points: by_layer
                    .into_iter()
                    .map(|(k, ys)| {
                        let (mean, _, ci) = mean_std_ci(&ys);
                        (k as f64, mean, ci)
                    })
                    .collect(),
            })
            .collect();
        charts.push(Chart {
            file: format!("layers_{}.svg", measure.name()),
            title: format!("{} (mean ± 95% CI over seeds)", measure.title),
            x_desc: "layer (0 = embeddings)".into(),
            y_desc: measure.y_desc(),
            x: XAxis::Numeric((0..=depth).map(|k| k.to_string()).collect()),
            series,
        });
    }
    charts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cell: &str, from: &str, kv: &[(&str, &str)]) -> Row {
        let mut r: Row = [("cell_id", cell), ("from", from), ("status", "ok")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        r.extend(kv.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        r
    }

    #[test]
    fn tables_and_charts_per_cell_and_layer() {
        let rows = [
            row(
                "c001",
                "A",
                &[
                    ("layer0_test_accuracy", "0.5"),
                    ("layer1_test_accuracy", "0.7"),
                ],
            ),
            row(
                "c001",
                "A",
                &[
                    ("layer0_test_accuracy", "0.6"),
                    ("layer1_test_accuracy", "0.9"),
                ],
            ),
            row(
                "c002",
                "none",
                &[
                    ("layer0_test_accuracy", "0.4"),
                    ("layer1_test_accuracy", "0.4"),
                ],
            ),
            row(
                "c003",
                "A",
                &[("layer0_cka", "0.99"), ("layer1_cka", "0.5")],
            ),
        ];
        let ok: Vec<&Row> = rows.iter().collect();
        let from = "from".to_string();
        let md = section(&ok, &[&from]);
        assert!(md.contains("## Layers"), "{md}");
        // Mean 0.8 over two seeds; t(1) = 12.706, std 0.1414 → half-width 1.2706.
        assert!(
            md.contains("| c001: from = A | 0.5500 ± 0.6353 | 0.8000 ± 1.2706 |"),
            "{md}"
        );
        assert!(
            md.contains("| c002: from = none | 0.4000 | 0.4000 |"),
            "{md}"
        );
        assert!(md.contains("| c003: from = A | 0.9900 | 0.5000 |"), "{md}");
        let charts = layer_charts(&ok, &["from".to_string()]);
        let files: Vec<&str> = charts.iter().map(|c| c.file.as_str()).collect();
        assert_eq!(files, ["layers_test_accuracy.svg", "layers_cka.svg"]);
        assert_eq!(charts[0].series.len(), 2);
        assert_eq!(charts[0].series[0].points[1].1, 0.8);
        assert!(section(&[], &[]).is_empty());
    }

    #[test]
    fn layer_columns_are_recognised() {
        let (k, c) = layer_column("layer3_test_accuracy").unwrap();
        assert_eq!(k, 3);
        assert!(MEASURES[0].holds(&c) && !MEASURES[1].holds(&c));
        assert_eq!(layer_column("layer_decay"), None);
        assert_eq!(layer_column("test_accuracy"), None);
        assert_eq!(
            MEASURES.map(|m| (m.name(), m.y_desc())),
            [
                ("test_accuracy".to_string(), "test_accuracy".to_string()),
                ("cka".to_string(), "linear CKA".to_string())
            ]
        );
    }
}
