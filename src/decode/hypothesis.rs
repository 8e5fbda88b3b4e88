//! What a search returns (a hypothesis and its score, as HF scores it) and the checks every
//! search starts with; the searches and the entry point both build on it.

use super::config::GenerationConfig;
use super::error::DecodeError;

/// A generated continuation.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// The new tokens, without the prompt; the EOS token is the last one when it ended on one.
    pub tokens: Vec<u32>,
    /// Sum of the chosen tokens' log-probabilities (after the n-gram bans).
    pub sum_logprobs: f64,
    /// `sum_logprobs / len^length_penalty`, `len` = `tokens.len()` (HF's `sequences_scores`).
    pub score: f64,
}

impl Hypothesis {
    pub(crate) fn new(tokens: Vec<u32>, sum_logprobs: f64, length_penalty: f64) -> Self {
        let score = sum_logprobs / (tokens.len() as f64).powf(length_penalty);
        Hypothesis {
            tokens,
            sum_logprobs,
            score,
        }
    }
}

/// Checks the settings and prompts every search starts with.
pub(crate) fn check_inputs(
    vocab_size: usize,
    prompts: &[Vec<u32>],
    config: &GenerationConfig,
) -> Result<(), DecodeError> {
    config.validate(vocab_size)?;
    match prompts.iter().position(Vec::is_empty) {
        Some(item) => Err(DecodeError::EmptyPrompt { item }),
        None => Ok(()),
    }
}
