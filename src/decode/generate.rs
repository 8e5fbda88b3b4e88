//! The entry point: `generate`, HF's dispatch on `num_beams`, and the hypotheses as one
//! rectangle.

use super::beam::beam_search;
use super::config::GenerationConfig;
use super::error::DecodeError;
use super::greedy::greedy_search;
use super::hypothesis::Hypothesis;
use super::model::NextTokenModel;

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
