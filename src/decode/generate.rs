//! The entry point (`generate`, HF's dispatch on `num_beams`) and what decoding returns.

use super::beam::beam_search;
use super::config::GenerationConfig;
use super::error::DecodeError;
use super::greedy::greedy_search;
use super::model::NextTokenModel;

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

/// Decodes every prompt as HF `generate()` does: greedy search when `num_beams` is 1, beam
/// search otherwise. Per prompt, `num_return_sequences` hypotheses, best first.
pub fn generate<M: NextTokenModel>(
    model: &mut M,
    prompts: &[Vec<u32>],
    config: &GenerationConfig,
) -> Result<Vec<Vec<Hypothesis>>, DecodeError> {
    if config.num_beams == 1 {
        Ok(greedy_search(model, prompts, config)?
            .into_iter()
            .map(|h| vec![h])
            .collect())
    } else {
        beam_search(model, prompts, config)
    }
}

/// The hypotheses' tokens as one rectangle, shorter rows filled with `pad` after their EOS (the
/// shape of HF's `sequences` without the prompt).
pub fn padded(hypotheses: &[Hypothesis], pad: u32) -> Vec<Vec<u32>> {
    let width = hypotheses.iter().map(|h| h.tokens.len()).max().unwrap_or(0);
    hypotheses
        .iter()
        .map(|h| {
            let mut row = h.tokens.clone();
            row.resize(width, pad);
            row
        })
        .collect()
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
