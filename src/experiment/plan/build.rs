//! Planning: grid points → cells (deduplicated after normalisation) → runs (cell × seed) → the
//! stages every run needs, each under its content key, shared between runs and listed once in
//! topological order. Nothing is read or run here.
//!
//! Two grid points are the same cell when their downstream stages have the same keys (ignoring
//! the seed); normalisation first makes a scratch stage ignore `from` and `layers`.

use super::stages::run_stages;
use super::types::{Cell, NamedKey, Plan, RunPlan, StageKind, StagePlan};
use crate::config::{
    ConfigError, Experiment, Layers, LoadOptions, Loaded, StageRef, Transfer, load,
};
use std::collections::HashMap;

/// Loads the experiment and plans it.
pub fn plan_files(options: &LoadOptions) -> Result<Plan, ConfigError> {
    let loaded = load(options)?;
    crate::experiment::imports::check_imports(&loaded)?;
    Ok(plan(&loaded))
}

/// Plans a loaded (and so validated) experiment.
pub fn plan(loaded: &Loaded) -> Plan {
    let mut cells: Vec<Cell> = Vec::new();
    let mut by_signature: HashMap<String, usize> = HashMap::new();
    for point in &loaded.points {
        let experiment = normalise(&point.experiment);
        let signature = cell_signature(&experiment);
        match by_signature.get(&signature) {
            Some(&i) => cells[i].merged.push(point.axes.clone()),
            None => {
                by_signature.insert(signature, cells.len());
                cells.push(Cell {
                    id: String::new(),
                    axes: point.axes.clone(),
                    merged: Vec::new(),
                    experiment,
                });
            }
        }
    }
    let width = cells.len().to_string().len().max(3);
    for (i, cell) in cells.iter_mut().enumerate() {
        cell.id = format!("c{:0width$}", i + 1);
    }

    let mut builder = StageTable::default();
    let mut runs = Vec::new();
    for cell in &cells {
        for &seed in &cell.experiment.seeds {
            let run_id = format!("{}-s{seed}", cell.id);
            let stages = run_stages(&cell.experiment, Some(seed));
            let mut keys = Vec::new();
            let mut downstream = Vec::new();
            for stage in stages {
                if stage.kind == StageKind::Downstream {
                    downstream.push(NamedKey {
                        name: stage.name.clone(),
                        key: stage.key.clone(),
                    });
                }
                // Stages two downstream stages share (a pretraining, or identical configs) once.
                if keys.contains(&stage.key) {
                    continue;
                }
                keys.push(stage.key.clone());
                builder.add(stage, &run_id);
            }
            runs.push(RunPlan {
                run_id,
                cell_id: cell.id.clone(),
                seed,
                stages: keys,
                downstream,
            });
        }
    }
    let stages = builder.ordered();
    let estimated_seconds = stages.iter().map(|s| s.estimate.seconds).sum();
    Plan {
        experiment_name: loaded.base.name.clone(),
        axes: loaded.axes.clone(),
        seeds: loaded.base.seeds.clone(),
        grid_points: loaded.points.len(),
        cells,
        runs,
        stages,
        estimated_seconds,
        warnings: loaded.warnings.clone(),
    }
}

/// A scratch downstream stage ignores `from` and `layers`, only a fine-tuned one reads `freeze`
/// (a frozen one keeps everything fixed), only feature extraction (frozen, every layer) and
/// `lp-ft` read `probe`, only a trained encoder reads `encoder_lr` and `layer_decay`, and
/// `layers = depth` is `layers = "all"`: reset them so equal cells compare equal.
pub fn normalise(exp: &Experiment) -> Experiment {
    let mut exp = exp.clone();
    let depth = exp.encoder.depth;
    for d in exp.downstream.values_mut() {
        if d.layers == Layers::First(depth) {
            d.layers = Layers::All;
        }
        if d.transfer == Transfer::Scratch {
            d.from = StageRef::default();
            d.layers = Layers::All;
        }
        if !matches!(d.transfer, Transfer::Finetune | Transfer::LpFt) {
            d.freeze = None;
        }
        let probes = match d.transfer {
            Transfer::Frozen => d.layers == Layers::All,
            Transfer::LpFt => true,
            Transfer::Scratch | Transfer::Finetune => false,
        };
        if !probes {
            d.probe = None;
        }
        if d.transfer == Transfer::Frozen && d.layers == Layers::All {
            d.encoder_lr = None;
            d.layer_decay = 1.0;
        }
    }
    exp
}

/// What makes two cells the same: their downstream stages' keys, seeds left out.
fn cell_signature(exp: &Experiment) -> String {
    let stages = run_stages(exp, None);
    let downstream: Vec<(&str, &str)> = stages
        .iter()
        .filter(|s| s.kind == StageKind::Downstream)
        .map(|s| (s.name.as_str(), s.key.as_str()))
        .collect();
    format!("{downstream:?}")
}

/// Stages accumulated over runs: first occurrence kept, runs appended.
#[derive(Default)]
struct StageTable {
    stages: Vec<StagePlan>,
    index: HashMap<String, usize>,
}

impl StageTable {
    fn add(&mut self, stage: StagePlan, run_id: &str) {
        if let Some(&i) = self.index.get(&stage.key) {
            let runs = &mut self.stages[i].runs;
            if runs.last().map(String::as_str) != Some(run_id) {
                runs.push(run_id.to_string());
            }
            return;
        }
        self.index.insert(stage.key.clone(), self.stages.len());
        let mut stage = stage;
        stage.runs = vec![run_id.to_string()];
        self.stages.push(stage);
    }

    /// Parents before children: by kind (tokenizer, pretrain, downstream), then first appearance.
    /// A pretraining stage first appears after its parent (runs list chains in order), so this is
    /// a topological order.
    fn ordered(self) -> Vec<StagePlan> {
        let mut stages = self.stages;
        stages.sort_by_key(|s| s.kind);
        stages
    }
}
