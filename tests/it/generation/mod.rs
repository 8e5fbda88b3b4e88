//! Generation: the text metrics against sacrebleu and rouge-score.
mod metrics;
