//! The report's one orchestrator: from the rows of runs.csv and the points of curves.csv, writes
//! summary.csv, plots/*.svg and report.md into the results folder. The runner calls
//! [`write_summary`] after a grid; `embedlab report DIR` calls [`rebuild`], which reads runs.csv
//! first.

use super::chart::{self, Plot};
use super::curves::read_curves;
use super::summary::summarize;
use super::table::{
    Row, SETTINGS, axes_of, is_ok, metric_columns, read_csv, read_header, test_metrics, write_csv,
};
use super::{layers, markdown, plots};
use anyhow::Result;
use std::path::Path;

/// Rebuilds the summary, plots and report of the results folder `dir` from its runs.csv.
pub fn rebuild(dir: &Path) -> Result<()> {
    rebuild_summary(dir)?;
    eprintln!(
        "wrote {}, {} and {}",
        dir.join("summary.csv").display(),
        dir.join("report.md").display(),
        dir.join("plots").display()
    );
    Ok(())
}

/// Rebuilds `<dir>/summary.csv`, its plots and report.md from `<dir>/runs.csv` (e.g. after
/// shards wrote their rows).
fn rebuild_summary(dir: &Path) -> Result<()> {
    let path = dir.join("runs.csv");
    if !path.exists() {
        anyhow::bail!("{} does not exist", path.display());
    }
    let rows = read_csv(&path)?;
    let header = read_header(&path)?;
    let mut middle = axes_of(&header, &rows);
    middle.extend(SETTINGS.iter().map(|s| s.to_string()));
    write_summary(dir, &rows, &middle)
}

/// Writes `<exp_dir>/summary.csv`, `<exp_dir>/plots/*.svg` and `<exp_dir>/report.md` from the
/// rows, grouped by cell; `middle` are the axes and settings columns carried into each summary
/// row (the axes are those that are not settings). A chart that cannot be drawn is a warning,
/// not a failed grid.
pub fn write_summary(exp_dir: &Path, rows: &[Row], middle: &[String]) -> Result<()> {
    let metrics = metric_columns(rows, middle);
    let (cols, summary) = summarize(rows, middle, &metrics);
    write_csv(&exp_dir.join("summary.csv"), &cols, &summary)?;
    let axes: Vec<String> = middle
        .iter()
        .filter(|c| !SETTINGS.contains(&c.as_str()))
        .cloned()
        .collect();
    let plots =
        write_plots(exp_dir, rows, &axes, &test_metrics(rows), middle).unwrap_or_else(|e| {
            eprintln!("warning: plots not written: {e:#}");
            Vec::new()
        });
    let name = exp_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let md = markdown::render(&name, rows, middle, &plots);
    crate::fsio::write_atomic(&exp_dir.join("report.md"), md.as_bytes())?;
    Ok(())
}

/// Writes every chart of the results folder `dir` from its runs (`rows`), its sweep `axes` and
/// `metrics`, and its curves.csv when there is one, into `dir/plots/` (its SVG files are
/// replaced). Returns the charts written, in report order: the sweep axes' charts, the Layers
/// charts, the learning curves.
pub fn write_plots(
    dir: &Path,
    rows: &[Row],
    axes: &[String],
    metrics: &[String],
    group: &[String],
) -> Result<Vec<Plot>> {
    chart::clear(&dir.join("plots"))?;
    let ok: Vec<&Row> = rows.iter().filter(|r| is_ok(r)).collect();
    let mut charts = plots::axis_charts(&ok, axes, metrics);
    charts.extend(layers::layer_charts(&ok, group));
    charts.extend(plots::curve_charts(&read_curves(&dir.join("curves.csv"))?));
    chart::draw_all(dir, charts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::chart::XAxis;
    use crate::report::plots::axis_chart;
    use crate::report::plots::tests::row;

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
