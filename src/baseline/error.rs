//! Errors of the baselines: what was wrong with the data or the fit, and where.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum BaselineError {
    #[error("bag-of-words baseline: the train split is empty")]
    EmptyTrain,
    #[error("bag-of-words baseline: the dev split is empty, so no C can be picked on it")]
    EmptyDev,
    #[error("bag-of-words baseline: the label list is empty")]
    NoLabels,
    #[error(
        "bag-of-words baseline: train example {index} has label '{label}', which is not in the label list"
    )]
    UnknownTrainLabel { index: usize, label: String },
    #[error(
        "bag-of-words baseline: no train text has a word of two or more word characters, so there are no features"
    )]
    EmptyVocabulary,
    #[error(
        "bag-of-words baseline: {split} example {index} of a pair task has no second text (text_pair)"
    )]
    MissingPair { split: &'static str, index: usize },
    #[error(
        "tag baseline: {split} example {index} has {tags} tags for {words} whitespace-separated words"
    )]
    TagCount {
        split: &'static str,
        index: usize,
        tags: usize,
        words: usize,
    },
    #[error("bag-of-words baseline: the grid of C values is empty")]
    EmptyGrid,
    #[error("bag-of-words baseline: C = {c} must be positive and finite")]
    InvalidC { c: f64 },
    #[error("bag-of-words baseline: logistic regression with C = {c} failed: {source}")]
    Solver {
        c: f64,
        #[source]
        source: linfa_logistic::error::Error,
    },
}

pub type Result<T> = std::result::Result<T, BaselineError>;
