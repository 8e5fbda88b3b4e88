//! Planning: grid points → cells (deduplicated after normalisation) → runs (cell × seed) → the
//! stages every run needs, each under a content key, shared between runs and listed once in
//! topological order, with a rough cost estimate. Nothing is read or run here.
//!
//! Stage keys are the first 16 hex digits of the sha256 of a canonical JSON (sorted keys) of
//! everything that determines the stage's output, its parents' keys included:
//! - tokenizer: its config and the corpora/datasets it is fitted on;
//! - pretrain: its config, encoder, embeddings, its data, its own seed (the run seed only with
//!   `replicate = true`) and its parent's key (the tokenizer, or the previous stage of a chain);
//! - downstream: its config, encoder, embeddings, dataset, the tokenizer key, the key of the
//!   pretraining it starts from (none for scratch) and the run seed.
//!
//! Names are not part of keys (renaming a stage keeps its cache), and neither are `device` and
//! `threads`. Two grid points are the same cell when their downstream stages have the same keys
//! (ignoring the seed); normalisation first makes a scratch stage ignore `from` and `layers`.

use crate::config::{
    ConfigError, CorpusConfig, DatasetConfig, DownstreamConfig, EmbeddingsConfig, EncoderConfig,
    Experiment, Layers, LoadOptions, Loaded, PositionEmbedding, PretrainConfig, PretrainTask,
    StageRef, TokenizerConfig, Transfer, WordEmbedding, load,
};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

pub use crate::config::AxisValue;

/// Bumped when the meaning of a stage's outputs changes, so old caches are not reused
/// (2: pretraining holds out a dev share).
pub const KEY_VERSION: u32 = 2;
/// Effective training throughput the estimates assume, in GFLOP/s. Calibrated on DESIGN §7's
/// measured BERT-mini MLM step (~12 GFLOP counted as below, in 97 ms on the development CPU).
pub const EFFECTIVE_GFLOPS: f64 = 100.0;
/// Fixed cost of a stage (session creation, data loading), in seconds.
pub const STAGE_OVERHEAD_SECONDS: f64 = 2.0;
/// Estimated time to fit a tokenizer, in seconds.
pub const TOKENIZER_SECONDS: f64 = 5.0;
/// Training examples assumed for a dataset whose size the plan cannot know (no `max_train`).
pub const ASSUMED_TRAIN_EXAMPLES: u64 = 10_000;
/// Runs listed per stage by [`Plan::render_text`] before it abbreviates.
const MAX_LISTED_RUNS: usize = 8;

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
    /// Valid but doubtful settings, located (`file:line:col: key: message`).
    pub warnings: Vec<String>,
}

/// One point of the grid, after normalisation and deduplication.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// `c001`, `c002`, ... in grid order.
    pub id: String,
    pub axes: Vec<AxisValue>,
    /// Other grid points that normalised to this cell (e.g. scratch × pretraining variants).
    pub merged: Vec<Vec<AxisValue>>,
    /// The fully resolved, normalised experiment of this cell (`sweep` empty).
    pub experiment: Experiment,
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
    Pretrain,
    Downstream,
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
}

/// A corpus or dataset with its name.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NamedData {
    pub name: String,
    pub source: DataSource,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum DataSource {
    Corpus(CorpusConfig),
    Dataset(DatasetConfig),
}

/// A rough cost: parameters, work and time at [`EFFECTIVE_GFLOPS`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CostEstimate {
    pub params: u64,
    pub steps: u64,
    pub tokens_per_step: u64,
    pub gflop: f64,
    pub seconds: f64,
}

/// Loads the experiment and plans it.
pub fn plan_files(options: &LoadOptions) -> Result<Plan, ConfigError> {
    let loaded = load(options)?;
    super::imports::check_imports(&loaded)?;
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
/// (a frozen one keeps everything fixed), only feature extraction (frozen, every layer) reads
/// `probe`, and `layers = depth` is `layers = "all"`: reset them so equal cells compare equal.
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
        if d.transfer != Transfer::Finetune {
            d.freeze = None;
        }
        if !(d.transfer == Transfer::Frozen && d.layers == Layers::All) {
            d.probe = None;
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

/// The stages of one run, parents first: tokenizer, each downstream stage's pretraining chain,
/// the downstream stages. `seed = None` leaves the run seed out of the keys (cell signatures).
fn run_stages(exp: &Experiment, seed: Option<u64>) -> Vec<StagePlan> {
    let mut out = Vec::new();
    let tokenizer = tokenizer_stage(exp);
    let tok_key = tokenizer.key.clone();
    out.push(tokenizer);
    for (name, d) in &exp.downstream {
        let mut previous: Option<String> = None;
        let mut chain: Vec<String> = Vec::new();
        // A chain that starts with an imported model directory uses that model's tokenizer
        // (its stage folder holds the tokenizer.json) instead of the experiment's.
        let mut chain_tok = tok_key.clone();
        if d.transfer != Transfer::Scratch {
            for stage_name in d.from.names() {
                let Some(p) = exp.pretrain.get(stage_name) else {
                    continue;
                };
                chain.push(format!("pretrain.{stage_name}"));
                let stage = if super::imports::imports_model_dir(p) {
                    let s = super::imports::import_stage_plan(p, stage_name, &chain, &tok_key);
                    chain_tok = s.key.clone();
                    s
                } else {
                    pretrain_stage(
                        exp,
                        stage_name,
                        p,
                        &chain_tok,
                        previous.as_deref(),
                        &chain,
                        seed,
                    )
                };
                previous = Some(stage.key.clone());
                out.push(stage);
            }
        }
        out.push(downstream_stage(
            exp,
            name,
            d,
            &chain_tok,
            previous.as_deref(),
            seed,
        ));
    }
    // Runs whose every chain starts from an imported model do not fit the experiment's tokenizer.
    if !out.iter().any(|s| s.parents.contains(&tok_key)) {
        out.remove(0);
    }
    out
}

fn data_of(exp: &Experiment, name: &str) -> NamedData {
    let source = match (exp.corpus.get(name), exp.dataset.get(name)) {
        (Some(c), _) => DataSource::Corpus(c.clone()),
        (None, Some(d)) => DataSource::Dataset(d.clone()),
        // Validation guarantees references resolve; an empty corpus keeps planning total.
        (None, None) => DataSource::Corpus(CorpusConfig {
            path: Default::default(),
            filter: Default::default(),
        }),
    };
    NamedData {
        name: name.to_string(),
        source,
    }
}

fn tokenizer_stage(exp: &Experiment) -> StagePlan {
    let fit_on: Vec<NamedData> = exp
        .tokenizer
        .fit_on
        .iter()
        .map(|n| data_of(exp, n))
        .collect();
    let material = json!({
        "stage": "tokenizer",
        "version": KEY_VERSION,
        "tokenizer": without(&exp.tokenizer, &["fit_on"]),
        "fit_on": fit_on.iter().map(|d| &d.source).collect::<Vec<_>>(),
    });
    StagePlan {
        key: stage_key(&material),
        kind: StageKind::Tokenizer,
        name: "tokenizer".into(),
        label: "tokenizer".into(),
        parents: Vec::new(),
        runs: Vec::new(),
        config: StageConfig::Tokenizer {
            tokenizer: exp.tokenizer.clone(),
            fit_on,
        },
        estimate: CostEstimate {
            seconds: TOKENIZER_SECONDS,
            ..CostEstimate::default()
        },
        cached: false,
    }
}

fn pretrain_stage(
    exp: &Experiment,
    name: &str,
    p: &PretrainConfig,
    tok_key: &str,
    previous: Option<&str>,
    chain: &[String],
    run_seed: Option<u64>,
) -> StagePlan {
    let seed = if p.replicate { run_seed } else { Some(p.seed) };
    let data = data_of(exp, &p.data);
    let material = json!({
        "stage": "pretrain",
        "version": KEY_VERSION,
        "config": without(p, &["data", "seed", "replicate"]),
        "encoder": exp.encoder,
        "embeddings": exp.embeddings,
        "data": data.source,
        "seed": seed,
        "tokenizer": tok_key,
        "previous": previous,
    });
    let mut parents = vec![tok_key.to_string()];
    parents.extend(previous.filter(|k| *k != tok_key).map(str::to_string));
    StagePlan {
        key: stage_key(&material),
        kind: StageKind::Pretrain,
        name: name.to_string(),
        label: chain.join(" > "),
        parents,
        runs: Vec::new(),
        config: StageConfig::Pretrain {
            pretrain: p.clone(),
            encoder: exp.encoder.clone(),
            embeddings: exp.embeddings.clone(),
            data,
            seed: seed.unwrap_or(p.seed),
            tokenizer: tok_key.to_string(),
            previous: previous.map(str::to_string),
        },
        estimate: pretrain_cost(exp, p),
        cached: false,
    }
}

fn downstream_stage(
    exp: &Experiment,
    name: &str,
    d: &DownstreamConfig,
    tok_key: &str,
    pretrained: Option<&str>,
    seed: Option<u64>,
) -> StagePlan {
    let data = data_of(exp, &d.data);
    let material = json!({
        "stage": "downstream",
        "version": KEY_VERSION,
        "config": without(d, &["data", "from"]),
        "encoder": exp.encoder,
        "embeddings": exp.embeddings,
        "data": data.source,
        "seed": seed,
        "tokenizer": tok_key,
        "pretrained": pretrained,
    });
    let mut parents = vec![tok_key.to_string()];
    parents.extend(pretrained.filter(|k| *k != tok_key).map(str::to_string));
    StagePlan {
        key: stage_key(&material),
        kind: StageKind::Downstream,
        name: name.to_string(),
        label: format!("downstream.{name}"),
        parents,
        runs: Vec::new(),
        config: StageConfig::Downstream {
            downstream: d.clone(),
            encoder: exp.encoder.clone(),
            embeddings: exp.embeddings.clone(),
            data,
            seed: seed.unwrap_or(0),
            tokenizer: tok_key.to_string(),
            pretrained: pretrained.map(str::to_string),
        },
        estimate: downstream_cost(exp, d),
        cached: false,
    }
}

/// `value` as JSON without the named top-level fields.
fn without<T: Serialize>(value: &T, fields: &[&str]) -> Value {
    let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        for f in fields {
            map.remove(*f);
        }
    }
    v
}

/// First 16 hex digits of the sha256 of the canonical JSON of `material`.
pub fn stage_key(material: &Value) -> String {
    let mut text = String::new();
    canonical_json(material, &mut text);
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(digest)[..16].to_string()
}

/// Compact JSON with object keys sorted at every level, whatever map type serde_json was built with.
pub fn canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical_json(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

// Estimates are computed in f64 so that absurd sizes saturate instead of overflowing.

/// Parameters of one encoder layer (attention, feed-forward, two layer norms).
fn layer_params(e: &EncoderConfig) -> f64 {
    let (d, f) = (e.d_model as f64, e.ffn as f64);
    4.0 * d * d + 4.0 * d + 2.0 * d * f + f + d + 4.0 * d
}

/// Parameters of the embeddings and the encoder.
fn model_params(exp: &Experiment) -> f64 {
    let d = exp.encoder.d_model as f64;
    let mut n = 2.0 * d;
    if exp.embeddings.word != WordEmbedding::None {
        n += exp.tokenizer.vocab_size as f64 * d;
    }
    if exp.embeddings.position == PositionEmbedding::Learned {
        n += exp.encoder.max_len as f64 * d;
    }
    if exp.embeddings.segment {
        n += 2.0 * d;
    }
    n + exp.encoder.depth as f64 * layer_params(&exp.encoder)
}

/// Forward FLOPs per token of the encoder at `seq_len` (matmuls plus attention scores).
fn encoder_flops_per_token(e: &EncoderConfig, seq_len: usize) -> f64 {
    let attention = 4.0 * seq_len as f64 * e.d_model as f64;
    e.depth as f64 * (2.0 * layer_params(e) + attention)
}

fn cost(params: f64, steps: f64, tokens_per_step: f64, gflop: f64) -> CostEstimate {
    // `as` from f64 saturates.
    CostEstimate {
        params: params as u64,
        steps: steps as u64,
        tokens_per_step: tokens_per_step as u64,
        gflop,
        seconds: STAGE_OVERHEAD_SECONDS + gflop / EFFECTIVE_GFLOPS,
    }
}

fn pretrain_cost(exp: &Experiment, p: &PretrainConfig) -> CostEstimate {
    let params = model_params(exp);
    if p.task == PretrainTask::Import {
        return cost(params, 0.0, 0.0, 0.0);
    }
    let tokens = p.batch_size as f64 * p.seq_len as f64;
    let vocab_head = 2.0 * exp.tokenizer.vocab_size as f64 * exp.encoder.d_model as f64;
    // Language-model heads project onto the vocabulary: MLM at masked positions, CLM everywhere.
    let head = match p.task {
        PretrainTask::Mlm => vocab_head * p.mask_prob,
        PretrainTask::Clm => vocab_head,
        _ => 0.0,
    };
    let forward = encoder_flops_per_token(&exp.encoder, p.seq_len) + head;
    let steps = p.steps as f64;
    // Backward costs about twice the forward pass.
    let gflop = 3.0 * forward * tokens * steps / 1e9;
    cost(params, steps, tokens, gflop)
}

fn downstream_cost(exp: &Experiment, d: &DownstreamConfig) -> CostEstimate {
    let params = model_params(exp);
    let examples = exp
        .dataset
        .get(&d.data)
        .and_then(|ds| ds.filter.max_train)
        .map_or(ASSUMED_TRAIN_EXAMPLES as f64, |n| n as f64);
    let steps = (examples / d.batch_size.max(1) as f64).ceil() * d.epochs as f64;
    let tokens = d.batch_size as f64 * d.seq_len as f64;
    let forward = encoder_flops_per_token(&exp.encoder, d.seq_len);
    // Frozen: the encoder runs forward once per example, then only the head trains.
    let gflop = match d.transfer {
        Transfer::Frozen => forward * examples * d.seq_len as f64 / 1e9,
        _ => 3.0 * forward * tokens * steps / 1e9,
    };
    cost(params, steps, tokens, gflop)
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
        let _ = writeln!(
            out,
            "experiment {}: {} cell{} x {} seed{} = {} runs, {} stages",
            self.experiment_name,
            self.cells.len(),
            plural(self.cells.len()),
            self.seeds.len(),
            plural(self.seeds.len()),
            self.runs.len(),
            self.stages.len(),
        );
        if self.grid_points != self.cells.len() {
            let _ = writeln!(
                out,
                "  ({} grid points; {} equal to another after normalisation, planned once)",
                self.grid_points,
                self.grid_points - self.cells.len()
            );
        }
        let _ = writeln!(out);
        if self.axes.is_empty() {
            let _ = writeln!(out, "cells (no sweep)");
        } else {
            let _ = writeln!(out, "cells (sweep: {})", self.axes.join(", "));
        }
        for cell in &self.cells {
            let _ = writeln!(out, "  {}  {}", cell.id, axes_text(&cell.axes));
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

/// Stages of a run in execution order, looked up in the plan.
pub fn run_stage_plans<'p>(plan: &'p Plan, run: &RunPlan) -> Vec<&'p StagePlan> {
    run.stages.iter().filter_map(|k| plan.stage(k)).collect()
}
