//! Decoding token sequences from a next-token model: greedy search and beam search with Hugging
//! Face `generate()`'s semantics (transformers 5.x, `generation/utils.py` `_sample` without
//! sampling and `_beam_search`; `NoRepeatNGramLogitsProcessor`; `GenerationConfig`'s defaults).
//! Independent of ONNX: anything that implements `NextTokenModel` drives it, a graph run through
//! ONNX Runtime as well as the scripted test double (`ScriptedModel`). Arithmetic is f64 (HF
//! accumulates beam scores in float32), so scores agree with HF's to float32 rounding and
//! choices differ only between candidates within that rounding of each other.
mod beam;
mod config;
mod error;
mod generate;
mod greedy;
mod hypothesis;
mod model;
mod ngram;
mod scripted;

pub use beam::beam_search;
pub use config::{EarlyStopping, GenerationConfig};
pub use error::DecodeError;
pub use generate::{generate, padded};
pub use greedy::greedy_search;
pub use hypothesis::Hypothesis;
pub use model::{NextTokenModel, Step};
pub use ngram::banned_tokens;
pub use scripted::{Call, ScriptedModel};
