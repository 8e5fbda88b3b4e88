//! A chart and its drawing: the chart's series of points (with 95% intervals as error bars),
//! what its x axis holds (steps, numeric or categorical sweep values), and the SVG that plotters'
//! SVG backend draws of it under `plots/`. Text is written as SVG `<text>` and laid out with
//! plotters' built-in size estimate, so no font files or font libraries are needed.

use super::ticks::{TickAxis, nice_ticks};
use anyhow::{Context, Result};
use plotters::prelude::*;
use std::path::Path;

/// Chart size in pixels.
const SIZE: (u32, u32) = (900, 560);
/// Series beyond this many are drawn but not named in the legend.
const MAX_LEGEND: usize = 16;

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
    pub(super) fn joined(&self) -> bool {
        match self {
            XAxis::Steps | XAxis::Numeric(_) => true,
            XAxis::Categorical(_) => false,
        }
    }
}

/// `text` with everything but letters, digits, `.`, `-` and `_` replaced by `_`.
pub(super) fn file_part(text: &str) -> String {
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

/// Removes the SVG files of the folder `plots_dir` (the folder is rewritten whole each time).
pub(super) fn clear(plots_dir: &Path) -> Result<()> {
    if plots_dir.exists() {
        for entry in std::fs::read_dir(plots_dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "svg") {
                std::fs::remove_file(&path)?;
            }
        }
    }
    Ok(())
}

/// Draws `charts` into `<dir>/plots/` (created when there is a chart), in order; returns what
/// was written.
pub(super) fn draw_all(dir: &Path, charts: Vec<Chart>) -> Result<Vec<Plot>> {
    if charts.is_empty() {
        return Ok(Vec::new());
    }
    let plots_dir = dir.join("plots");
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
