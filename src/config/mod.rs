//! Serde types of the experiment file, defaults and validation. A leaf: imports nothing of ours.
mod data;
pub use data::{CorpusConfig, DatasetConfig, FilterConfig, TokenizerConfig, TokenizerKind};
