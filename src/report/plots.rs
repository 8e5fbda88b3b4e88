//! plots/*.svg, drawn with plotters' SVG backend:
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
//! - with `probe_layers` columns, the two layer charts of [`super::layers`].
//!
//! Text is written as SVG `<text>` and laid out with plotters' built-in size estimate, so no font
//! files or font libraries are needed. The folder is rewritten whole each time.

use super::table::{Row, mean_std_ci};
use super::ticks::{TickAxis, nice_ticks};
use anyhow::{Context, Result};
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Chart size in pixels.
const SIZE: (u32, u32) = (900, 560);
/// Series beyond this many are drawn but not named in the legend.
const MAX_LEGEND: usize = 16;

/// Learning-curve points of one run: (step, value).
type Points = Vec<(f64, f64)>;
/// A learning curve's stage, split and metric.
type CurveKey = (String, String, String);

/// A chart written under the results folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plot {
    /// Relative to the results folder: `plots/test_accuracy_by_encoder.depth.svg`.
    pub file: String,
    pub title: String,
}

/// One line of a chart: its legend name and points (x, y, half-width of the interval or NaN).
pub(super) struct Series {
    pub name: String,
    pub points: Vec<(f64, f64, f64)>,
}

/// Writes every chart of the results folder `dir` from its runs (`rows`), its sweep `axes` and
/// `metrics`, and its curves.csv when there is one. Returns the charts written, in report order.
pub fn write_plots(
    dir: &Path,
    rows: &[Row],
    axes: &[String],
    metrics: &[String],
    group: &[String],
) -> Result<Vec<Plot>> {
    let plots_dir = dir.join("plots");
    if plots_dir.exists() {
        for entry in std::fs::read_dir(&plots_dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "svg") {
                std::fs::remove_file(&path)?;
            }
        }
    }
    let ok: Vec<&Row> = rows
        .iter()
        .filter(|r| r.get("status").map(String::as_str) == Some("ok"))
        .collect();
    let mut charts = Vec::new();
    for axis in axes {
        for metric in metrics {
            if let Some(chart) = axis_chart(&ok, axis, axes, metric) {
                charts.push(chart);
            }
        }
    }
    charts.extend(super::layers::layer_charts(&ok, group));
    charts.extend(curve_charts(&dir.join("curves.csv"))?);
    if charts.is_empty() {
        return Ok(Vec::new());
    }
    std::fs::create_dir_all(&plots_dir)
        .with_context(|| format!("creating {}", plots_dir.display()))?;
    let mut plots = Vec::new();
    for chart in charts {
        let path = plots_dir.join(&chart.file);
        chart
            .draw(&path)
            .with_context(|| format!("drawing {}", path.display()))?;
        plots.push(Plot {
            file: format!("plots/{}", chart.file),
            title: chart.title,
        });
    }
    Ok(plots)
}

/// A chart to draw.
pub(super) struct Chart {
    pub file: String,
    pub title: String,
    pub x_desc: String,
    pub y_desc: String,
    pub x: XAxis,
    pub series: Vec<Series>,
}

/// What a chart's x axis holds, which decides where its points go and whether lines join them.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum XAxis {
    /// Numbers at their own positions (learning-curve steps); points joined by lines.
    Steps,
    /// The values of a numeric sweep axis, sorted, at 0, 1, 2, ...; points joined by lines.
    Numeric(Vec<String>),
    /// The values of a string-valued sweep axis, in sweep order, at 0, 1, 2, ...; points and
    /// error bars only: the categories have no order for a line to follow.
    Categorical(Vec<String>),
}

impl XAxis {
    /// The names of the positions 0, 1, 2, ... (none for steps).
    fn names(&self) -> Option<&[String]> {
        match self {
            XAxis::Steps => None,
            XAxis::Numeric(names) | XAxis::Categorical(names) => Some(names),
        }
    }

    /// Whether lines join a series' points.
    fn joined(&self) -> bool {
        match self {
            XAxis::Steps | XAxis::Numeric(_) => true,
            XAxis::Categorical(_) => false,
        }
    }
}

/// `text` with everything but letters, digits, `.`, `-` and `_` replaced by `_`.
fn file_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The metric per value of `axis`, a series per combination of the other axes' values.
fn axis_chart(rows: &[&Row], axis: &str, axes: &[String], metric: &str) -> Option<Chart> {
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

/// Learning curves from curves.csv (run_id, stage, step, split, metric, value): a chart per
/// stage, split and metric, a series per run; runs with the same points (a shared stage, or a
/// dev accuracy that did not move) are one series named after the first of them.
fn curve_charts(path: &Path) -> Result<Vec<Chart>> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let mut r =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let h = r.headers()?.clone();
    let col = |name: &str| {
        h.iter()
            .position(|c| c == name)
            .with_context(|| format!("{}: no column {name}", path.display()))
    };
    let (run, stage, step, split, metric, value) = (
        col("run_id")?,
        col("stage")?,
        col("step")?,
        col("split")?,
        col("metric")?,
        col("value")?,
    );
    // (stage, split, metric) in order of first appearance (a run's stages in order), → run → points
    let mut curves: Vec<(CurveKey, BTreeMap<String, Points>)> = Vec::new();
    for rec in r.records() {
        let rec = rec.with_context(|| format!("reading {}", path.display()))?;
        let (Ok(x), Ok(y)) = (rec[step].parse::<f64>(), rec[value].parse::<f64>()) else {
            continue;
        };
        if !y.is_finite() {
            continue;
        }
        let key = (
            rec[stage].to_string(),
            rec[split].to_string(),
            rec[metric].to_string(),
        );
        let at = match curves.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                curves.push((key, BTreeMap::new()));
                curves.len() - 1
            }
        };
        curves[at]
            .1
            .entry(rec[run].to_string())
            .or_default()
            .push((x, y));
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
    Ok(charts)
}

impl Chart {
    /// The ranges of x and y over every point and interval, padded.
    fn ranges(&self) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
        let pts = self.series.iter().flat_map(|s| &s.points);
        let (mut x0, mut x1, mut y0, mut y1) = (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        );
        for &(x, y, ci) in pts {
            let ci = if ci.is_finite() { ci } else { 0.0 };
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y - ci), y1.max(y + ci));
        }
        let pad = |lo: f64, hi: f64, min: f64| {
            let span = (hi - lo).max(min);
            (lo - 0.08 * span)..(hi + 0.08 * span)
        };
        let x = match self.x.names() {
            Some(names) => -0.5..(names.len() as f64 - 0.5),
            None => pad(x0, x1, 1.0),
        };
        (x, pad(y0, y1, 1e-3))
    }

    fn draw(&self, path: &Path) -> Result<()> {
        let root = SVGBackend::new(path, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let (xr, yr) = self.ranges();
        let keys: Vec<f64> = match self.x.names() {
            Some(names) => (0..names.len()).map(|i| i as f64).collect(),
            None => nice_ticks(&xr, 8),
        };
        let names = self.x.names().unwrap_or_default();
        let label = |x: &f64| -> String {
            if names.is_empty() {
                let s = format!("{x}");
                if s == "-0" { "0".into() } else { s }
            } else {
                names
                    .get(x.round().max(0.0) as usize)
                    .cloned()
                    .unwrap_or_default()
            }
        };
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(
                TickAxis {
                    range: xr,
                    ticks: keys,
                },
                yr,
            )
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_desc)
            .y_desc(&self.y_desc)
            .x_label_formatter(&label)
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(plot_error)?;
        for (i, s) in self.series.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            let points = chart
                .draw_series(
                    s.points
                        .iter()
                        .map(|&(x, y, _)| Circle::new((x, y), 3, color.filled())),
                )
                .map_err(plot_error)?;
            if self.x.joined() {
                let line = chart
                    .draw_series(LineSeries::new(
                        s.points.iter().map(|&(x, y, _)| (x, y)),
                        color.stroke_width(2),
                    ))
                    .map_err(plot_error)?;
                if i < MAX_LEGEND {
                    line.label(s.name.clone()).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                    });
                }
            } else if i < MAX_LEGEND {
                points
                    .label(s.name.clone())
                    .legend(move |(x, y)| Circle::new((x + 10, y), 4, color.filled()));
            }
            let bars = s
                .points
                .iter()
                .filter(|p| p.2.is_finite())
                .map(|&(x, y, ci)| {
                    ErrorBar::new_vertical(x, y - ci, y, y + ci, color.stroke_width(2), 10)
                });
            chart.draw_series(bars).map_err(plot_error)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
        Ok(())
    }
}

fn plot_error<E: std::error::Error + Send + Sync + 'static>(
    e: plotters::drawing::DrawingAreaErrorKind<E>,
) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cell: &str, seed: &str, depth: &str, transfer: &str, acc: &str) -> Row {
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

    #[test]
    fn charts_are_svg_with_their_labels() {
        let dir = tempfile::tempdir().unwrap();
        let rows = vec![
            row("c001", "1", "1", "scratch", "0.5"),
            row("c002", "1", "2", "scratch", "0.6"),
            row("c002", "2", "2", "scratch", "0.65"),
        ];
        std::fs::write(
            dir.path().join("curves.csv"),
            "run_id,stage,step,split,metric,value\nc001-s1,pretrain.A,1,train,loss,4.5\nc001-s1,pretrain.A,2,train,loss,4.0\n\
             c002-s1,pretrain.A,1,train,loss,4.5\nc002-s1,pretrain.A,2,train,loss,4.0\nc001-s1,downstream.C,3,dev,accuracy,0.4\n",
        )
        .unwrap();
        let plots = write_plots(
            dir.path(),
            &rows,
            &["encoder.depth".to_string()],
            &["test_accuracy".to_string()],
            &[],
        )
        .unwrap();
        let files: Vec<&str> = plots.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "plots/test_accuracy_by_encoder.depth.svg",
                "plots/curve_pretrain.A_train_loss.svg",
                "plots/curve_downstream.C_dev_accuracy.svg"
            ]
        );
        let svg = std::fs::read_to_string(dir.path().join(files[0])).unwrap();
        assert!(
            svg.starts_with("<svg")
                && svg.contains("encoder.depth")
                && svg.contains("\ntest_accuracy\n"),
            "{svg}"
        );
        let svg = std::fs::read_to_string(dir.path().join(files[1])).unwrap();
        assert!(svg.contains("c001-s1 (+1 runs, same curve)"), "{svg}");
    }

    /// Tags `<tag` of `svg` drawn 2 px wide: series lines, their legend marks and error bars
    /// (axes and ticks are 1 px).
    fn wide(svg: &str, tag: &str) -> usize {
        svg.split(&format!("<{tag} "))
            .skip(1)
            .filter(|rest| {
                rest.split('>')
                    .next()
                    .is_some_and(|t| t.contains("stroke-width=\"2\""))
            })
            .count()
    }

    /// A string-valued axis (transfer, with the bag-of-words cell) is categorical: points with
    /// error bars, no line through the categories; a numeric axis keeps its lines.
    #[test]
    fn categorical_axes_draw_points_and_error_bars_without_lines() {
        let rows = [
            row("c001", "1", "1", "scratch", "0.50"),
            row("c001", "2", "1", "scratch", "0.60"),
            row("c002", "1", "1", "finetune", "0.70"),
            row("c002", "2", "1", "finetune", "0.74"),
            row("c003", "1", "1", "bow", "0.65"),
            row("c003", "2", "1", "bow", "0.65"),
            row("c004", "1", "2", "scratch", "0.52"),
            row("c004", "2", "2", "scratch", "0.58"),
        ];
        let refs: Vec<&Row> = rows.iter().collect();
        let axes = ["encoder.depth".to_string(), "transfer".to_string()];
        let by_transfer = axis_chart(&refs, "transfer", &axes, "test_accuracy").unwrap();
        // Categories in sweep order (not sorted), points at 0, 1, 2.
        assert_eq!(
            by_transfer.x,
            XAxis::Categorical(vec!["scratch".into(), "finetune".into(), "bow".into()])
        );
        assert!(!by_transfer.x.joined());
        let by_depth = axis_chart(&refs, "encoder.depth", &axes, "test_accuracy").unwrap();
        assert!(by_depth.x.joined());

        let dir = tempfile::tempdir().unwrap();
        let plots = write_plots(
            dir.path(),
            &rows,
            &axes,
            &["test_accuracy".to_string()],
            &[],
        )
        .unwrap();
        let read = |file: &str| {
            let p = plots.iter().find(|p| p.file == file).unwrap();
            std::fs::read_to_string(dir.path().join(&p.file)).unwrap()
        };
        let categorical = read("plots/test_accuracy_by_transfer.svg");
        assert_eq!(wide(&categorical, "polyline"), 0, "{categorical}");
        // Every point has two seeds, so an error bar (three lines): scratch, finetune and bow at
        // depth 1, scratch at depth 2.
        assert_eq!(wide(&categorical, "line"), 4 * 3, "{categorical}");
        for name in ["scratch", "finetune", "bow"] {
            assert!(categorical.contains(&format!("\n{name}\n")), "{name}");
        }
        // Numeric: a polyline per series (scratch through depths 1 and 2; finetune and bow at
        // depth 1 alone) and a legend mark each.
        let numeric = read("plots/test_accuracy_by_encoder.depth.svg");
        assert_eq!(wide(&numeric, "polyline"), 3 * 2, "{numeric}");
    }
}
