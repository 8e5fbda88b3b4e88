//! Planning: grid points → cells (deduplicated after normalisation) → runs (cell × seed) → the
//! stages every run needs, each under its content key, shared between runs and listed once in
//! topological order. Nothing is read or run here.
//!
//! Two grid points are the same cell when their downstream stages have the same keys (ignoring
//! the seed); normalisation first makes a scratch stage ignore `from` and `layers`. A downstream
//! stage with `baseline = true` adds a baseline cell after the model cells, one per task and
//! dataset, whose runs (one per seed) share one deterministic stage.

use super::stages::{baseline_stage, run_stages};
use super::types::{
    AxisValue, Cell, CellKind, NamedKey, Plan, Replicated, RunPlan, StageKind, StagePlan,
};
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
    let mut cells = model_cells(loaded);
    let baselines = baseline_cells(&cells, &loaded.axes);
    let mut baseline_stages = Vec::with_capacity(baselines.len());
    for (cell, stage) in baselines {
        cells.push(cell);
        baseline_stages.push(stage);
    }
    let width = cells.len().to_string().len().max(3);
    for (i, cell) in cells.iter_mut().enumerate() {
        cell.id = format!("c{:0width$}", i + 1);
    }

    let mut builder = StageTable::default();
    let mut replicas = Replicas::default();
    let mut runs = Vec::new();
    let mut baseline_stages = baseline_stages.into_iter();
    for cell in &cells {
        let baseline = match &cell.kind {
            CellKind::Model => None,
            CellKind::Baseline { .. } => baseline_stages.next(),
        };
        let seedless = baseline
            .is_none()
            .then(|| run_stages(&cell.experiment, None));
        for &seed in &cell.experiment.seeds {
            let run_id = format!("{}-s{seed}", cell.id);
            let stages = match (&baseline, &seedless) {
                (Some(stage), _) => vec![stage.clone()],
                (None, seedless) => {
                    let stages = run_stages(&cell.experiment, Some(seed));
                    replicas.add(seedless.as_deref().unwrap_or_default(), &stages);
                    stages
                }
            };
            let mut keys = Vec::new();
            let mut downstream = Vec::new();
            for stage in stages {
                if matches!(stage.kind, StageKind::Downstream | StageKind::Baseline) {
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
        replicated: replicas.summary(),
        warnings: loaded.warnings.clone(),
    }
}

/// The grid's points as model cells (ids not yet given): points that normalise to the same
/// downstream stages are one cell. A merged point that asks for a baseline turns it on for its
/// cell (`baseline` is not part of the stages' keys).
fn model_cells(loaded: &Loaded) -> Vec<Cell> {
    let mut cells: Vec<Cell> = Vec::new();
    let mut by_signature: HashMap<String, usize> = HashMap::new();
    for point in &loaded.points {
        let experiment = normalise(&point.experiment);
        let signature = cell_signature(&experiment);
        match by_signature.get(&signature) {
            Some(&i) => {
                let cell = &mut cells[i];
                cell.merged.push(point.axes.clone());
                for (name, d) in &experiment.downstream {
                    if let Some(kept) = cell.experiment.downstream.get_mut(name) {
                        kept.baseline |= d.baseline;
                    }
                }
            }
            None => {
                by_signature.insert(signature, cells.len());
                cells.push(Cell {
                    id: String::new(),
                    kind: CellKind::Model,
                    axes: point.axes.clone(),
                    merged: Vec::new(),
                    experiment,
                });
            }
        }
    }
    cells
}

/// One baseline cell (ids not yet given) and its stage per downstream stage name and baseline
/// key over the model cells whose stage has `baseline = true`, in order of first appearance.
/// The cell keeps an axis only where every grid point it stands beside has one value for it (the
/// others do not change the baseline); its own stage's `transfer` axis reads `"bow"`.
fn baseline_cells(cells: &[Cell], axes: &[String]) -> Vec<(Cell, StagePlan)> {
    let mut groups: Vec<(Cell, StagePlan, Vec<&Vec<AxisValue>>)> = Vec::new();
    for cell in cells {
        for (name, d) in cell
            .experiment
            .downstream
            .iter()
            .filter(|(_, d)| d.baseline)
        {
            let stage = baseline_stage(&cell.experiment, name, d);
            let at = groups
                .iter()
                .position(|(_, s, _)| s.key == stage.key && s.name == stage.name);
            let at = at.unwrap_or_else(|| {
                let kind = CellKind::Baseline {
                    downstream: name.clone(),
                };
                let cell = Cell {
                    id: String::new(),
                    kind,
                    axes: Vec::new(),
                    merged: Vec::new(),
                    experiment: cell.experiment.clone(),
                };
                groups.push((cell, stage, Vec::new()));
                groups.len() - 1
            });
            groups[at].2.push(&cell.axes);
            groups[at].2.extend(&cell.merged);
        }
    }
    groups
        .into_iter()
        .map(|(mut cell, stage, points)| {
            let transfer = format!("downstream.{}.transfer", stage.name);
            cell.axes = axes
                .iter()
                .filter_map(|key| {
                    if *key == transfer {
                        return Some(AxisValue {
                            key: key.clone(),
                            value: "bow".into(),
                        });
                    }
                    let value = |p: &&Vec<AxisValue>| {
                        p.iter().find(|a| a.key == *key).map(|a| a.value.clone())
                    };
                    let first = value(points.first()?)?;
                    points
                        .iter()
                        .all(|p| value(p).as_ref() == Some(&first))
                        .then(|| AxisValue {
                            key: key.clone(),
                            value: first,
                        })
                })
                .collect();
            (cell, stage)
        })
        .collect()
}

/// The replicas of one pretraining stage: its seedless key, and each distinct seeded key with
/// its estimated seconds.
type ReplicaGroup = (String, Vec<(String, f64)>);

/// Pretraining stages that differ from their seedless selves (they take the run seed), grouped
/// by label and by the seedless key.
#[derive(Default)]
struct Replicas {
    /// label → its replica groups, in order of first appearance.
    by_label: Vec<(String, Vec<ReplicaGroup>)>,
}

impl Replicas {
    /// Records a run's stages against the same cell's seedless stages (the same list, in the
    /// same order, with seedless keys).
    fn add(&mut self, seedless: &[StagePlan], seeded: &[StagePlan]) {
        for (plain, s) in seedless.iter().zip(seeded) {
            if s.kind != StageKind::Pretrain || plain.key == s.key {
                continue;
            }
            let label = match self.by_label.iter().position(|(l, _)| *l == s.label) {
                Some(i) => i,
                None => {
                    self.by_label.push((s.label.clone(), Vec::new()));
                    self.by_label.len() - 1
                }
            };
            let groups = &mut self.by_label[label].1;
            let group = match groups.iter().position(|(k, _)| *k == plain.key) {
                Some(i) => i,
                None => {
                    groups.push((plain.key.clone(), Vec::new()));
                    groups.len() - 1
                }
            };
            let members = &mut groups[group].1;
            if !members.iter().any(|(k, _)| *k == s.key) {
                members.push((s.key.clone(), s.estimate.seconds));
            }
        }
    }

    fn summary(self) -> Vec<Replicated> {
        self.by_label
            .into_iter()
            .map(|(label, groups)| Replicated {
                label,
                stages: groups.iter().map(|(_, m)| m.len()).sum(),
                without: groups.len(),
                extra_seconds: groups
                    .iter()
                    .flat_map(|(_, m)| m.iter().skip(1))
                    .map(|(_, seconds)| seconds)
                    .sum(),
            })
            .collect()
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
        // `probe_layers`' random-encoder control: without a pretraining, every mode but frozen
        // trains from the random initialisation, which is scratch.
        if d.from.is_none() && matches!(d.transfer, Transfer::Finetune | Transfer::LpFt) {
            d.transfer = Transfer::Scratch;
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
