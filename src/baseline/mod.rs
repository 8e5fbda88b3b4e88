//! Baselines that need no encoder: TF-IDF + logistic regression for classification and pairs,
//! the most frequent tag per word for tagging. They answer "does any of this beat bag-of-words?".
//!
//! `bow::fit_and_score` is the entry point. Modules: `tokenize` (scikit-learn's default word
//! tokenization, side-marked pair features), `tfidf` (the vectorizer), `logistic` (the solver,
//! linfa-logistic, over a grid of C picked on dev), `tagger` (most frequent tag), `error`.
//! Scores come from `metrics`, the functions the runner scores its heads with.
//!
//! Imports only `data` and `metrics`; never `experiment`, `model`, `runtime` or `graph`.

pub mod bow;
pub mod error;
pub mod logistic;
pub mod tagger;
pub mod tfidf;
pub mod tokenize;

pub use bow::{BowConfig, BowMetrics, BowTask, CScore, fit_and_score, fit_and_score_with};
pub use error::BaselineError;
pub use logistic::{C_GRID, Logistic, LogisticConfig, fit_grid};
pub use tagger::MostFrequentTag;
pub use tfidf::TfIdf;
pub use tokenize::{document_tokens, words};
