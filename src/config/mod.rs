//! Serde types of the experiment file, defaults, layering and validation. A leaf: imports nothing
//! of ours.
//!
//! Every section is a nested serde type with defaults and `deny_unknown_fields`, so a short file
//! is a complete experiment and a misspelt key is an error. No untagged or flattened enums: the
//! keys that take either a word or something else (`layers`, `from`, `pack`) have hand-written
//! `Deserialize` impls with precise "expected" texts.
//!
//! - `data`: corpora, datasets, filters, tokenizer (shared with the `data` module);
//! - `embeddings`, `encoder`: the model sections; `vectors`: static word vectors;
//! - `pretrain`, `downstream`, `optimizer`: the training stages; `layers` and `stage_ref`, the two
//!   word-or-value keys of a downstream stage; `pack`, how pretraining fills its rows;
//! - `experiment`: the top-level [`Experiment`] and its JSON Schema;
//! - `source`: the input layers (files, environment, `--set`) and key-path → `file:line:col`;
//! - `load`: figment layering, deserialisation, path resolution, sweep expansion;
//! - `validate`: cross-field rules, one file per section, under the size `limits`;
//! - `reference`: docs/EXPERIMENT.md, the key reference generated from the schema;
//! - `error`: [`ConfigError`], every user mistake (exit code 2).
mod data;
mod downstream;
mod embeddings;
mod encoder;
mod error;
mod experiment;
mod layers;
mod limits;
mod load;
mod optimizer;
mod pack;
mod pretrain;
mod probe_layers;
mod reference;
mod source;
mod stage_ref;
mod validate;
mod vectors;

pub use data::{
    CorpusConfig, DatasetConfig, DatasetFiles, Document, FilterConfig, SPECIAL_TOKENS,
    TokenizerConfig, TokenizerKind, UnseenLabels,
};
pub use downstream::{
    DownstreamConfig, DownstreamTask, Freeze, LongInputs, Pooling, Probe, Transfer, WindowPool,
};
pub use embeddings::{EmbeddingsConfig, PositionEmbedding, WordEmbedding};
pub use encoder::{Activation, EncoderConfig, NormPlacement};
pub use error::{CellNote, ConfigError, Hint, Origin, display_path};
pub use experiment::{Device, Experiment, json_schema};
pub use layers::Layers;
pub use load::{AxisValue, GridPoint, LoadOptions, Loaded, MAX_CELLS, load, load_str, parse};
pub use optimizer::{OptimizerConfig, OptimizerKind, Schedule};
pub use pack::Pack;
pub use pretrain::{PretrainConfig, PretrainTask};
pub use probe_layers::ProbeLayers;
pub use reference::reference_markdown;
pub use source::{ENV_PREFIX, Point, Sources};
pub use stage_ref::StageRef;
pub use validate::{Violation, validate, warnings};
pub use vectors::VectorsConfig;
