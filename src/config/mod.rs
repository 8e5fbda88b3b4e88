//! Serde types of the experiment file, defaults, layering and validation. A leaf: imports nothing
//! of ours.
//!
//! - `data`: corpora, datasets, filters, tokenizer (shared with the `data` module);
//! - `experiment`: the model and training sections and the top-level [`Experiment`];
//! - `source`: the input layers (files, environment, `--set`) and key-path → `file:line:col`;
//! - `load`: figment layering, deserialisation, path resolution, sweep expansion;
//! - `validate`: cross-field rules;
//! - `error`: [`ConfigError`], every user mistake (exit code 2).
mod data;
mod error;
mod experiment;
mod load;
mod source;
mod validate;

pub use data::{
    CorpusConfig, DatasetConfig, FilterConfig, SPECIAL_TOKENS, TokenizerConfig, TokenizerKind,
    UnseenLabels,
};
pub use error::{CellNote, ConfigError, Hint, Origin, display_path};
pub use experiment::{
    Activation, Device, DownstreamConfig, DownstreamTask, EmbeddingsConfig, EncoderConfig,
    Experiment, Freeze, Layers, NormPlacement, OptimizerConfig, OptimizerKind, Pooling,
    PositionEmbedding, PretrainConfig, PretrainTask, Schedule, StageRef, Transfer, WordEmbedding,
    json_schema,
};
pub use load::{AxisValue, GridPoint, LoadOptions, Loaded, MAX_CELLS, load, load_str, parse};
pub use source::{ENV_PREFIX, Point, Sources};
pub use validate::{Violation, validate, warnings};
