//! The text `embedlab plan` prints: the cells (model and baseline cells), the stages with their
//! keys, estimates, cache status and the runs that share them, what replicating pretraining per
//! seed adds, and the estimated cost of what is left to run.

use super::cost::EFFECTIVE_GFLOPS;
use super::types::{CellKind, Plan, StagePlan};
use crate::config::AxisValue;
use std::fmt::Write as _;

/// Runs listed per stage by [`Plan::render_text`] before it abbreviates.
const MAX_LISTED_RUNS: usize = 8;

impl Plan {
    /// The human-readable summary `embedlab plan` prints.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let cached: Vec<&StagePlan> = self.stages.iter().filter(|s| s.cached).collect();
        let to_run: f64 = self
            .stages
            .iter()
            .filter(|s| !s.cached)
            .map(|s| s.estimate.seconds)
            .sum();
        let model_cells = self
            .cells
            .iter()
            .filter(|c| c.kind == CellKind::Model)
            .count();
        let baseline_cells = self.cells.len() - model_cells;
        let baselines = match baseline_cells {
            0 => String::new(),
            n => format!(" + {n} baseline cell{}", plural(n)),
        };
        let _ = writeln!(
            out,
            "experiment {}: {} cell{}{baselines} x {} seed{} = {} runs, {} stages",
            self.experiment_name,
            model_cells,
            plural(model_cells),
            self.seeds.len(),
            plural(self.seeds.len()),
            self.runs.len(),
            self.stages.len(),
        );
        if self.grid_points != model_cells {
            let _ = writeln!(
                out,
                "  ({} grid points; {} equal to another after normalisation, planned once)",
                self.grid_points,
                self.grid_points.saturating_sub(model_cells)
            );
        }
        let _ = writeln!(out);
        if self.axes.is_empty() {
            let _ = writeln!(out, "cells (no sweep)");
        } else {
            let _ = writeln!(out, "cells (sweep: {})", self.axes.join(", "));
        }
        for cell in &self.cells {
            match &cell.kind {
                CellKind::Model => {
                    let _ = writeln!(out, "  {}  {}", cell.id, axes_text(&cell.axes));
                }
                CellKind::Baseline { downstream } => {
                    let _ = writeln!(
                        out,
                        "  {}  bag-of-words baseline of downstream.{downstream} (deterministic: one fit for every seed){}",
                        cell.id,
                        if cell.axes.is_empty() {
                            String::new()
                        } else {
                            format!(", {}", axes_text(&cell.axes))
                        }
                    );
                }
            }
            for merged in &cell.merged {
                let _ = writeln!(out, "        also {}", axes_text(merged));
            }
        }
        let _ = writeln!(out);
        let _ = writeln!(out, "stages");
        let label_width = self
            .stages
            .iter()
            .map(|s| s.label.len())
            .max()
            .unwrap_or(5)
            .max(5);
        let _ = writeln!(
            out,
            "  {:<16}  {:<label_width$}  {:>8}  {:<6}  runs",
            "key", "stage", "estimate", "status"
        );
        for s in &self.stages {
            let runs = if s.runs.len() == self.runs.len() && self.runs.len() > 1 {
                format!("all {}", s.runs.len())
            } else if s.runs.len() > MAX_LISTED_RUNS {
                format!(
                    "{} ... ({} runs)",
                    s.runs[..MAX_LISTED_RUNS - 1].join(" "),
                    s.runs.len()
                )
            } else {
                s.runs.join(" ")
            };
            let _ = writeln!(
                out,
                "  {:<16}  {:<label_width$}  {:>8}  {:<6}  {}",
                s.key,
                s.label,
                format_seconds(s.estimate.seconds),
                if s.cached { "cached" } else { "to run" },
                runs
            );
        }
        let _ = writeln!(out);
        for r in &self.replicated {
            let _ = writeln!(
                out,
                "replicate: {} trains once per seed: {} pretrainings instead of {}, an estimated +{} (included below)",
                r.label,
                r.stages,
                r.without,
                format_seconds(r.extra_seconds)
            );
        }
        let _ = write!(
            out,
            "estimated cost: {} on one worker at {EFFECTIVE_GFLOPS} GFLOP/s",
            format_seconds(to_run)
        );
        if !cached.is_empty() {
            let _ = write!(
                out,
                " ({} stage{} cached)",
                cached.len(),
                plural(cached.len())
            );
        }
        let _ = writeln!(out);
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn axes_text(axes: &[AxisValue]) -> String {
    if axes.is_empty() {
        return "(base configuration)".into();
    }
    axes.iter()
        .map(|a| format!("{} = {}", a.key, a.value))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `45s`, `12m 05s`, `3h 20m`.
pub fn format_seconds(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    }
}
