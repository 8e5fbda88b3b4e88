//! The experiment file's model and training sections, and the top-level [`Experiment`].
//!
//! Every section is a nested serde type with defaults and `deny_unknown_fields`, so a short file
//! is a complete experiment and a misspelt key is an error. No untagged or flattened enums: the
//! two keys that take either a word or something else (`layers = "all" | k`,
//! `from = "none" | "A" | ["A", "B"]`) have hand-written `Deserialize` impls with precise
//! "expected" texts.

use super::data::{CorpusConfig, DatasetConfig, TokenizerConfig};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// A whole experiment: data, tokenizer, model, pretraining and downstream stages, the sweep grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Name of the experiment; results go to `<out>/<name>/`. Defaults to the first file's stem.
    #[serde(default)]
    pub name: String,
    /// Every cell of the sweep is run once per seed.
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// Unlabeled text corpora, by name.
    #[serde(default)]
    pub corpus: BTreeMap<String, CorpusConfig>,
    /// Labeled datasets, by name.
    #[serde(default)]
    pub dataset: BTreeMap<String, DatasetConfig>,
    #[serde(default)]
    pub tokenizer: TokenizerConfig,
    #[serde(default)]
    pub embeddings: EmbeddingsConfig,
    #[serde(default)]
    pub encoder: EncoderConfig,
    /// Pretraining stages, by name.
    #[serde(default)]
    pub pretrain: BTreeMap<String, PretrainConfig>,
    /// Downstream (evaluation) stages, by name.
    #[serde(default)]
    pub downstream: BTreeMap<String, DownstreamConfig>,
    /// The grid: `"dotted.key.path" = [values]`; cells are the cartesian product, in file order.
    #[serde(default)]
    pub sweep: BTreeMap<String, Vec<serde_json::Value>>,
    #[serde(default)]
    pub device: Device,
    /// Intra-op threads for ONNX Runtime; all cores when absent.
    #[serde(default)]
    pub threads: Option<usize>,
}

/// The JSON Schema of the experiment file, for editor completion (`embedlab schema`).
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Experiment)).unwrap_or_default()
}

fn default_seeds() -> Vec<u64> {
    vec![1]
}

impl Experiment {
    /// The experiment as a TOML document (what a run writes as its `config.toml`); loading it
    /// back gives the same experiment.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        toml::to_string(self)
    }
}

impl Default for Experiment {
    fn default() -> Self {
        Experiment {
            name: String::new(),
            seeds: default_seeds(),
            corpus: BTreeMap::new(),
            dataset: BTreeMap::new(),
            tokenizer: TokenizerConfig::default(),
            embeddings: EmbeddingsConfig::default(),
            encoder: EncoderConfig::default(),
            pretrain: BTreeMap::new(),
            downstream: BTreeMap::new(),
            sweep: BTreeMap::new(),
            device: Device::default(),
            threads: None,
        }
    }
}

/// Where ONNX Runtime executes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    #[default]
    Cpu,
    /// Needs a GPU build of ONNX Runtime (`onnxruntime-gpu`).
    Cuda,
}

/// `[embeddings]`: which input embeddings the encoder has.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingsConfig {
    #[serde(default)]
    pub word: WordEmbedding,
    #[serde(default)]
    pub position: PositionEmbedding,
    /// Segment (sentence A/B) embeddings; they matter only for pair input.
    #[serde(default)]
    pub segment: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WordEmbedding {
    /// A trainable table.
    #[default]
    Learned,
    /// Word vectors trained upstream, kept fixed.
    Static,
    None,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PositionEmbedding {
    #[default]
    Learned,
    Sinusoidal,
    None,
}

/// `[encoder]`: a transformer encoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EncoderConfig {
    /// Number of layers (at least 1).
    #[serde(default = "default_depth")]
    pub depth: usize,
    /// Hidden size; `heads` must divide it.
    #[serde(default = "default_d_model")]
    pub d_model: usize,
    #[serde(default = "default_heads")]
    pub heads: usize,
    /// Inner size of the feed-forward block.
    #[serde(default = "default_ffn")]
    pub ffn: usize,
    /// Dropout probability, in [0, 1).
    #[serde(default = "default_dropout")]
    pub dropout: f64,
    /// Longest input in tokens; stage `seq_len`s may not exceed it.
    #[serde(default = "default_max_len")]
    pub max_len: usize,
    #[serde(default)]
    pub activation: Activation,
    #[serde(default)]
    pub norm: NormPlacement,
}

fn default_depth() -> usize {
    2
}
fn default_d_model() -> usize {
    128
}
fn default_heads() -> usize {
    2
}
fn default_ffn() -> usize {
    512
}
fn default_dropout() -> f64 {
    0.1
}
fn default_max_len() -> usize {
    128
}

impl Default for EncoderConfig {
    fn default() -> Self {
        EncoderConfig {
            depth: default_depth(),
            d_model: default_d_model(),
            heads: default_heads(),
            ffn: default_ffn(),
            dropout: default_dropout(),
            max_len: default_max_len(),
            activation: Activation::default(),
            norm: NormPlacement::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    #[default]
    Gelu,
    Relu,
}

/// Where layer normalisation sits relative to the residual connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum NormPlacement {
    #[default]
    Post,
    Pre,
}

/// `[pretrain.NAME]`: one pretraining stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PretrainConfig {
    #[serde(default)]
    pub task: PretrainTask,
    /// A corpus or dataset name (`classify` needs a dataset; `import` reads none).
    #[serde(default)]
    pub data: String,
    /// For `task = "import"`: a BERT-family model directory (config.json, model.safetensors,
    /// tokenizer.json), whose architecture and tokenizer the stages after it use; or a
    /// params.safetensors saved by embedlab (same encoder and tokenizer as this experiment).
    #[serde(default)]
    pub path: Option<std::path::PathBuf>,
    #[serde(default = "default_steps")]
    pub steps: u64,
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    #[serde(default = "default_seq_len")]
    pub seq_len: usize,
    /// Share of tokens masked by `mlm`.
    #[serde(default = "default_mask_prob")]
    pub mask_prob: f64,
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    /// Pretraining's own seed: one pretrained encoder serves every replicate of a cell.
    #[serde(default)]
    pub seed: u64,
    /// Pretrain once per run seed instead (the run seed replaces `seed`).
    #[serde(default)]
    pub replicate: bool,
    /// `mlm`/`clm`: the output layer is the word-embedding table (BERT, GPT). Untied, the
    /// output layer is a separate matrix and a token's embedding changes only when it occurs,
    /// so tokens the corpus lacks keep their random initialisation instead of drifting
    /// together under the softmax's shared gradient.
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub tie_output: bool,
}

fn default_true() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}

fn default_steps() -> u64 {
    1000
}
fn default_batch_size() -> usize {
    32
}
fn default_seq_len() -> usize {
    64
}
fn default_mask_prob() -> f64 {
    0.15
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PretrainTask {
    /// Masked language modelling.
    #[default]
    Mlm,
    /// Causal (next-token) language modelling.
    Clm,
    /// Next-sentence prediction.
    Nsp,
    /// Sentence-order prediction.
    Sop,
    /// Intermediate supervised classification on a dataset.
    Classify,
    /// Load parameters from `path` instead of training.
    Import,
}

/// `optimizer = { ... }` of a pretraining or downstream stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    #[serde(default)]
    pub kind: OptimizerKind,
    /// Peak learning rate (> 0).
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Linear warm-up, in steps.
    #[serde(default)]
    pub warmup: u64,
    #[serde(default = "default_weight_decay")]
    pub weight_decay: f64,
    /// SGD momentum (ignored by AdamW).
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    /// Clip the global gradient norm to this; 0 turns clipping off.
    #[serde(default = "default_clip_norm")]
    pub clip_norm: f64,
    #[serde(default)]
    pub schedule: Schedule,
}

fn default_lr() -> f64 {
    5e-4
}
fn default_weight_decay() -> f64 {
    0.01
}
fn default_momentum() -> f64 {
    0.9
}
fn default_clip_norm() -> f64 {
    1.0
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig {
            kind: OptimizerKind::default(),
            lr: default_lr(),
            warmup: 0,
            weight_decay: default_weight_decay(),
            momentum: default_momentum(),
            clip_norm: default_clip_norm(),
            schedule: Schedule::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    #[default]
    Adamw,
    Sgd,
}

/// Learning-rate schedule after warm-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    #[default]
    Linear,
    Cosine,
    Constant,
}

/// `[downstream.NAME]`: a supervised task trained and evaluated on a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownstreamConfig {
    #[serde(default)]
    pub task: DownstreamTask,
    /// A dataset name.
    pub data: String,
    /// The pretraining chain this stage starts from.
    #[serde(default)]
    pub from: StageRef,
    #[serde(default)]
    pub transfer: Transfer,
    /// How many of the encoder's layers are transferred with the embeddings (the rest start
    /// random); 0 transfers the embeddings alone.
    #[serde(default)]
    pub layers: Layers,
    #[serde(default = "default_epochs")]
    pub epochs: u32,
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    #[serde(default = "default_seq_len")]
    pub seq_len: usize,
    #[serde(default)]
    pub pooling: Pooling,
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    /// Stop after this many epochs without a better dev score; 0 never stops early.
    #[serde(default)]
    pub patience: u32,
    /// `freeze = "embeddings"`: fine-tune the encoder layers with the (transferred) embeddings
    /// kept fixed. Read by `transfer = "finetune"` only; the other modes ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeze: Option<Freeze>,
    /// Training of the linear head in feature extraction (`transfer = "frozen"` with every layer
    /// transferred), which runs on features computed once and so can afford far more epochs
    /// than fine-tuning. Each setting given replaces the stage's own for those runs only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<Probe>,
}

/// `probe = { epochs = 100, patience = 10, lr = 1e-2 }`: see [`DownstreamConfig::probe`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Probe {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patience: Option<u32>,
    /// Peak learning rate of the head (the stage's optimizer otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
}

impl DownstreamConfig {
    /// The settings a feature-extraction run trains its head with: `probe`'s over the stage's.
    pub fn with_probe(&self) -> DownstreamConfig {
        let mut d = self.clone();
        if let Some(p) = &self.probe {
            d.epochs = p.epochs.unwrap_or(d.epochs);
            d.patience = p.patience.unwrap_or(d.patience);
            d.optimizer.lr = p.lr.unwrap_or(d.optimizer.lr);
        }
        d
    }
}

/// What a fine-tuned downstream stage keeps fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Freeze {
    /// Word, position and segment embeddings and their LayerNorm.
    Embeddings,
}

fn default_epochs() -> u32 {
    3
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DownstreamTask {
    /// One text, one label.
    #[default]
    Classify,
    /// Two texts (`text` and `text_pair` columns), one label.
    Pair,
    /// One tag per token.
    Tag,
}

/// How the pretrained encoder enters the downstream stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Transfer {
    /// Random initialisation; `from` and `layers` are ignored.
    Scratch,
    /// Pretrained encoder kept fixed; only the head trains.
    Frozen,
    /// Pretrained encoder trained further with the head.
    #[default]
    Finetune,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The first token's features.
    #[default]
    Cls,
    /// Mean over non-padding tokens.
    Mean,
}

/// `layers = "all"` or `layers = k`: the first k encoder layers are transferred.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Layers {
    #[default]
    All,
    First(usize),
}

impl Layers {
    /// How many layers are transferred from an encoder of `depth` layers.
    pub fn count(self, depth: usize) -> usize {
        match self {
            Layers::All => depth,
            Layers::First(k) => k,
        }
    }
}

impl fmt::Display for Layers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layers::All => f.write_str("all"),
            Layers::First(k) => write!(f, "{k}"),
        }
    }
}

impl Serialize for Layers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Layers::All => s.serialize_str("all"),
            Layers::First(k) => s.serialize_u64(*k as u64),
        }
    }
}

impl<'de> Deserialize<'de> for Layers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Layers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"all\" or a number of layers")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Layers, E> {
                if v == "all" {
                    Ok(Layers::All)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Layers, E> {
                usize::try_from(v)
                    .map(Layers::First)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Layers, E> {
                usize::try_from(v)
                    .map(Layers::First)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Layers {
    fn schema_name() -> Cow<'static, str> {
        "Layers".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "\"all\", or k: the first k encoder layers are transferred",
            "anyOf": [
                { "type": "string", "enum": ["all"] },
                { "type": "integer", "minimum": 1 }
            ]
        })
    }
}

/// `from = "none" | "A" | ["A", "B"]`: the chain of pretraining stages, in order (empty = none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct StageRef(pub Vec<String>);

impl StageRef {
    pub fn is_none(&self) -> bool {
        self.0.is_empty()
    }
    pub fn names(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for StageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&self.0.join(" -> "))
        }
    }
}

impl Serialize for StageRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [] => s.serialize_str("none"),
            [one] => s.serialize_str(one),
            many => many.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for StageRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StageRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"none\", a pretrain stage name, or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StageRef, E> {
                if v == "none" {
                    Ok(StageRef(Vec::new()))
                } else {
                    Ok(StageRef(vec![v.to_string()]))
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StageRef, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    names.push(name);
                }
                Ok(StageRef(names))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for StageRef {
    fn schema_name() -> Cow<'static, str> {
        "StageRef".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "\"none\", a pretrain stage name, or a chain of them in order",
            "anyOf": [
                { "type": "string" },
                { "type": "array", "items": { "type": "string" } }
            ]
        })
    }
}
