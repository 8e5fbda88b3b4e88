//! The top-level [`Experiment`]: the whole file, its top-level keys and the JSON Schema of it.

use super::data::{CorpusConfig, DatasetConfig, TokenizerConfig};
use super::downstream::DownstreamConfig;
use super::embeddings::EmbeddingsConfig;
use super::encoder::EncoderConfig;
use super::limits;
use super::pretrain::PretrainConfig;
use super::vectors::VectorsConfig;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A whole experiment: data, tokenizer, model, pretraining and downstream stages, the sweep grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Name of the experiment; results go to `<out>/<name>/`. Letters, digits, `_`, `-` and `.`,
    /// not starting with `.`. Empty: the first experiment file's stem.
    #[serde(default)]
    pub name: String,
    /// Run seeds: every cell of the sweep is run once per seed. At least one, none repeated.
    #[serde(default = "default_seeds")]
    #[schemars(length(min = 1), extend("uniqueItems" = true))]
    pub seeds: Vec<u64>,
    /// Unlabeled text corpora, by name.
    #[serde(default)]
    pub corpus: BTreeMap<String, CorpusConfig>,
    /// Labeled datasets, by name.
    #[serde(default)]
    pub dataset: BTreeMap<String, DatasetConfig>,
    /// The tokenizer.
    #[serde(default)]
    pub tokenizer: TokenizerConfig,
    /// The encoder's input embeddings.
    #[serde(default)]
    pub embeddings: EmbeddingsConfig,
    /// The encoder.
    #[serde(default)]
    pub encoder: EncoderConfig,
    /// Static word vectors (`embeddings.word = "static"` or `"static-tuned"`).
    #[serde(default)]
    pub vectors: VectorsConfig,
    /// Pretraining stages, by name.
    #[serde(default)]
    pub pretrain: BTreeMap<String, PretrainConfig>,
    /// Downstream (evaluation) stages, by name.
    #[serde(default)]
    pub downstream: BTreeMap<String, DownstreamConfig>,
    /// The grid: `"dotted.key.path" = [values]`, one axis per key; the cells are the cartesian
    /// product of the axes, in file order, and each is run once per seed. A `*` in place of a
    /// NAME sets the key in every table of that section at once (`"pretrain.*.pack"`).
    #[serde(default)]
    pub sweep: BTreeMap<String, Vec<serde_json::Value>>,
    /// Where ONNX Runtime executes.
    #[serde(default)]
    pub device: Device,
    /// Intra-op threads for ONNX Runtime; all cores when unset.
    #[serde(default)]
    #[schemars(range(min = 1, max = limits::THREADS))]
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
            vectors: VectorsConfig::default(),
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
    /// The CPU execution provider.
    #[default]
    Cpu,
    /// The CUDA execution provider; needs a GPU build of ONNX Runtime (`onnxruntime-gpu`).
    Cuda,
}
