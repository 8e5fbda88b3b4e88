//! `embedlab predict`: a finished run's whole model (its downstream stage's saved encoder and
//! head, exported as `export --head` does) over texts from a file, to a CSV of predicted labels
//! and per-label probabilities (tags per word for a tagging run, answers for a span run).
//!
//! - `inputs`: the texts, read by the datasets' one reader (`data::source`);
//! - `model`: the run's settings and its exported model as a session fed with encoded rows;
//! - `rows`: one row per input, cut at the row length;
//! - `windows`: inputs of a run that read long inputs in windows (ARCHITECTURE §8);
//! - `span`: extractive QA, windowed and decoded as the stage did (ARCHITECTURE §7);
//! - `prediction`: what is predicted for one input; `output`: the CSV, written with `csv`;
//! - `job`: a prediction prepared (every bad input found) and then run; `error`: its error.
//!
//! Imports `experiment` (a run's artifacts), `interop`, `data`, `model`, `runtime`, `metrics`
//! and `config`; nothing imports it but the binary.
mod error;
mod inputs;
mod job;
mod model;
mod output;
mod prediction;
mod rows;
mod span;
mod windows;

pub use error::PredictError;
pub use inputs::{Input, read_inputs, read_span_inputs};
pub use job::{Job, PredictOptions, Progress, prepare};
pub use output::{PredictionWriter, SpanWriter, destination};
pub use prediction::{Prediction, argmax};
