//! The plan's types: cells, runs, the stages they share (with the resolved configuration each is
//! executed with), and lookups in a plan.

use super::cost::CostEstimate;
use crate::config::{
    CorpusConfig, DatasetConfig, DownstreamConfig, DownstreamTask, EmbeddingsConfig, EncoderConfig,
    Experiment, PretrainConfig, TokenizerConfig, VectorsConfig,
};
use serde::Serialize;
use std::path::Path;

pub use crate::config::AxisValue;

/// Everything a runner needs: cells, runs and the deduplicated stages.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub experiment_name: String,
    /// The sweep keys, in file order.
    pub axes: Vec<String>,
    pub seeds: Vec<u64>,
    /// Number of grid points before deduplication.
    pub grid_points: usize,
    pub cells: Vec<Cell>,
    pub runs: Vec<RunPlan>,
    /// Topologically ordered (parents first), each key once.
    pub stages: Vec<StagePlan>,
    /// Sum of the stage estimates (one worker), in seconds.
    pub estimated_seconds: f64,
    /// Pretraining stages that train once per run seed instead of once (`replicate = true`, or
    /// continuing a stage that does), by label.
    pub replicated: Vec<Replicated>,
    /// Valid but doubtful settings, located (`file:line:col: key: message`).
    pub warnings: Vec<String>,
}

/// What `plan` says of a pretraining label whose stages replicate per seed: how many stages it
/// has, how many it would have without replication, and the estimated time the difference costs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replicated {
    /// `pretrain.A`, `pretrain.A > pretrain.B`.
    pub label: String,
    pub stages: usize,
    /// Stages without replication: one per distinct configuration.
    pub without: usize,
    /// Estimated seconds of the extra stages (one worker).
    pub extra_seconds: f64,
}

/// One point of the grid, after normalisation and deduplication.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// `c001`, `c002`, ... in grid order; the baseline cells come after the model cells.
    pub id: String,
    pub kind: CellKind,
    /// The sweep axes' values; a baseline cell keeps those its model cells share, and its
    /// downstream stage's `transfer` axis reads `"bow"`.
    pub axes: Vec<AxisValue>,
    /// Other grid points that normalised to this cell (e.g. scratch × pretraining variants).
    pub merged: Vec<Vec<AxisValue>>,
    /// The fully resolved, normalised experiment of this cell (`sweep` empty); for a baseline
    /// cell, that of the first model cell it stands beside.
    pub experiment: Experiment,
}

/// What a cell trains.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    /// The experiment's model: an encoder with a head per downstream stage.
    Model,
    /// The bag-of-words baseline of one downstream stage (`baseline = true`), the same for every
    /// model cell with that stage's task and data.
    Baseline {
        /// The downstream stage's name.
        downstream: String,
    },
}

/// One run: a cell with one seed.
#[derive(Debug, Clone, Serialize)]
pub struct RunPlan {
    /// `c003-s2`: cell id and seed.
    pub run_id: String,
    pub cell_id: String,
    pub seed: u64,
    /// Keys of every stage of the run, parents first.
    pub stages: Vec<String>,
    /// The run's downstream stages (its results): name and key.
    pub downstream: Vec<NamedKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedKey {
    pub name: String,
    pub key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    Tokenizer,
    /// Static word vectors (`embeddings.word = "static"`).
    Vectors,
    Pretrain,
    Downstream,
    /// The bag-of-words baseline of a downstream stage.
    Baseline,
}

/// A stage to execute once, whatever number of runs share it.
#[derive(Debug, Clone, Serialize)]
pub struct StagePlan {
    pub key: String,
    pub kind: StageKind,
    /// `tokenizer`, or the pretrain/downstream stage's name.
    pub name: String,
    /// For messages: `tokenizer`, `pretrain.A`, `pretrain.A > pretrain.B`, `downstream.C`.
    pub label: String,
    /// Keys of the stages whose outputs it reads.
    pub parents: Vec<String>,
    /// Run ids that need it.
    pub runs: Vec<String>,
    pub config: StageConfig,
    pub estimate: CostEstimate,
    /// Whether `<out>/.stages/<key>` already exists (set by [`Plan::mark_cached`]).
    pub cached: bool,
}

/// The resolved configuration a stage is executed with.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "stage", rename_all = "lowercase")]
pub enum StageConfig {
    Tokenizer {
        tokenizer: TokenizerConfig,
        /// The corpora and datasets it is fitted on, in `fit_on` order.
        fit_on: Vec<NamedData>,
    },
    /// Skip-gram vectors trained on the texts the tokenizer was fitted on.
    Vectors {
        /// The tokenizer stage whose vocabulary the vectors cover.
        tokenizer: String,
        fit_on: Vec<NamedData>,
        dim: usize,
        vectors: VectorsConfig,
    },
    Pretrain {
        pretrain: PretrainConfig,
        encoder: EncoderConfig,
        embeddings: EmbeddingsConfig,
        data: NamedData,
        /// The seed it trains with (its own, or the run's with `replicate`).
        seed: u64,
        tokenizer: String,
        /// The previous stage of a chain, whose parameters it starts from.
        previous: Option<String>,
    },
    Downstream {
        downstream: DownstreamConfig,
        encoder: EncoderConfig,
        embeddings: EmbeddingsConfig,
        data: NamedData,
        seed: u64,
        tokenizer: String,
        /// The last pretraining stage of `from` (none for scratch).
        pretrained: Option<String>,
    },
    /// TF-IDF + logistic regression (C picked on dev), or the most frequent tag per word; reads
    /// no other stage and no seed.
    Baseline {
        task: DownstreamTask,
        data: NamedData,
    },
}

/// A corpus or dataset with its name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedData {
    pub name: String,
    pub source: DataSource,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
// A plan holds a handful of these, built once; boxing the dataset would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum DataSource {
    Corpus(CorpusConfig),
    Dataset(DatasetConfig),
}

impl Plan {
    /// Marks the stages whose outputs already exist under `<out_dir>/.stages/<key>`.
    pub fn mark_cached(&mut self, out_dir: &Path) {
        for stage in &mut self.stages {
            stage.cached = out_dir.join(".stages").join(&stage.key).is_dir();
        }
    }

    pub fn stage(&self, key: &str) -> Option<&StagePlan> {
        self.stages.iter().find(|s| s.key == key)
    }

    pub fn cell(&self, id: &str) -> Option<&Cell> {
        self.cells.iter().find(|c| c.id == id)
    }
}

/// Stages of a run in execution order, looked up in the plan.
pub fn run_stage_plans<'p>(plan: &'p Plan, run: &RunPlan) -> Vec<&'p StagePlan> {
    run.stages.iter().filter_map(|k| plan.stage(k)).collect()
}
