//! Greedy search: HF's `_sample` with `do_sample = False`.

use super::config::GenerationConfig;
use super::error::DecodeError;
use super::hypothesis::{Hypothesis, check_inputs};
use super::model::{NextTokenModel, query};

/// Continues each prompt with its most probable next token (the first on a tie, as
/// `torch.argmax`), after the n-gram bans, until it emits EOS or has `max_new_tokens` new tokens.
/// One hypothesis per prompt, scored as beam search scores a finished one, so greedy search
/// equals beam search with one beam. Finished prompts are not sent to the model again.
pub fn greedy_search<M: NextTokenModel>(
    model: &mut M,
    prompts: &[Vec<u32>],
    config: &GenerationConfig,
) -> Result<Vec<Hypothesis>, DecodeError> {
    check_inputs(model.vocab_size(), prompts, config)?;
    let mut sequences: Vec<Vec<u32>> = prompts.to_vec();
    let mut sums = vec![0.0f64; prompts.len()];
    let mut running: Vec<usize> = (0..prompts.len()).collect();
    // For each running prompt, its row in the previous call.
    let mut previous_rows: Option<Vec<usize>> = None;
    for step in 1..=config.max_new_tokens {
        if running.is_empty() {
            break;
        }
        let rows: Vec<Vec<u32>> = running.iter().map(|&i| sequences[i].clone()).collect();
        let log_probs = query(
            model,
            step,
            &rows,
            previous_rows.as_deref(),
            config.no_repeat_ngram_size,
        )?;
        let mut still_running = Vec::with_capacity(running.len());
        let mut parents = Vec::with_capacity(running.len());
        for (row, (&item, values)) in running.iter().zip(&log_probs).enumerate() {
            let token = argmax_first(values);
            sequences[item].push(token as u32);
            sums[item] += values[token];
            if config.eos_token_id != Some(token as u32) {
                still_running.push(item);
                parents.push(row);
            }
        }
        running = still_running;
        previous_rows = Some(parents);
    }
    Ok(sequences
        .into_iter()
        .zip(prompts)
        .zip(sums)
        .map(|((sequence, prompt), sum)| {
            Hypothesis::new(
                sequence[prompt.len()..].to_vec(),
                sum,
                config.length_penalty,
            )
        })
        .collect())
}

/// Index of the largest value, the first of equal ones.
fn argmax_first(values: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}
