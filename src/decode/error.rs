//! What can go wrong while decoding: a setting or prompt that cannot be decoded, a model call
//! that fails or answers with the wrong shape or a non-finite log-probability.

/// A decoding error; `step` counts model calls from 1.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("generation setting {key} = {value}: expected {expected}")]
    Setting {
        key: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("prompt {item} is empty: decoding needs at least one token to continue from")]
    EmptyPrompt { item: usize },
    #[error("step {step}: the model failed")]
    Model {
        step: usize,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "step {step}: the model returned {got} log-probabilities for {rows} sequences of vocabulary {vocab} (expected {})",
        rows * vocab
    )]
    Shape {
        step: usize,
        rows: usize,
        vocab: usize,
        got: usize,
    },
    #[error(
        "step {step}: sequence {row}, token {token}: log-probability {value} (expected a finite number or -inf)"
    )]
    NotFinite {
        step: usize,
        row: usize,
        token: usize,
        value: f32,
    },
}
