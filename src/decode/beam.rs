//! Beam search: HF's `_beam_search` (transformers 5.x `generation/utils.py`, the vectorised
//! rewrite of the older `BeamSearchScorer` / `BeamHypotheses`), one prompt at a time but every
//! live beam of every prompt in one model call per step.
//!
//! Per prompt and step t (t new tokens once the step is taken):
//! 1. Every running beam's score plus each next token's log-probability gives `num_beams ×
//!    vocab` candidates; the best `2 · num_beams` are kept, best first (HF's `beams_to_keep`
//!    with one EOS token). At t = 1 all beams are the prompt, and every beam but the first starts
//!    at -1e9 (HF's mask value), so the candidates come from the first.
//! 2. A candidate *finishes* when its token is EOS or t = `max_new_tokens`; only finished
//!    candidates among the first `num_beams` ranks become hypotheses, scored
//!    `sum_logprobs / t^length_penalty` (t counts the EOS). The finished set keeps the best
//!    `num_beams` (existing ones first on a tie); with `early_stopping = WhenFull` a full set
//!    takes no more.
//! 3. The next running beams are the best `num_beams` candidates after 1e9 is taken off the
//!    finished ones (so they run on only if fewer than `num_beams` others are left).
//! 4. The prompt is done when, with a full finished set, the best running beam scored at length
//!    t (at `max_new_tokens` under `Never` with a positive penalty) is not above the worst
//!    finished hypothesis (HF's `_check_early_stop_heuristic`; a set that is not full compares
//!    with -1e9, where HF takes its lowest slot score, at most -1e9: the two differ only when
//!    every running beam is at -1e9 or below), or under `WhenFull` as soon as the set is full,
//!    or at `max_new_tokens`.
//!
//! Ties are broken by position (lower beam, then lower token id, first), where `torch.topk`
//! leaves the order unspecified.

use super::config::{EarlyStopping, GenerationConfig};
use super::error::DecodeError;
use super::hypothesis::{Hypothesis, check_inputs};
use super::model::{NextTokenModel, query};
use std::cmp::Ordering;

/// HF's mask value: the starting score of every beam but the first, and what is taken off a
/// finished candidate so it is not continued.
const MASK: f64 = -1.0e9;

/// A running beam.
#[derive(Debug, Clone)]
struct Beam {
    tokens: Vec<u32>,
    /// Sum of log-probabilities (with `MASK` for a beam that is only a placeholder).
    score: f64,
    /// Its sequence's row in the model call that produced its last token.
    parent_row: usize,
}

/// One of the best `2 · num_beams` continuations of a step.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    beam: usize,
    token: u32,
    score: f64,
}

/// A prompt's search state.
struct Search {
    running: Vec<Beam>,
    /// Best first, at most `num_beams`.
    finished: Vec<Hypothesis>,
    done: bool,
}

/// Beam search of every prompt (see the module comment); `num_beams = 1` is allowed and gives
/// greedy search's result. Per prompt, `num_return_sequences` hypotheses, best first.
pub fn beam_search<M: NextTokenModel>(
    model: &mut M,
    prompts: &[Vec<u32>],
    config: &GenerationConfig,
) -> Result<Vec<Vec<Hypothesis>>, DecodeError> {
    check_inputs(model.vocab_size(), prompts, config)?;
    let beams = config.num_beams;
    let mut searches: Vec<Search> = (0..prompts.len())
        .map(|_| Search {
            running: (0..beams)
                .map(|b| Beam {
                    tokens: Vec::new(),
                    score: if b == 0 { 0.0 } else { MASK },
                    parent_row: 0,
                })
                .collect(),
            finished: Vec::new(),
            done: false,
        })
        .collect();
    for step in 1..=config.max_new_tokens {
        // The rows of this call: the prompt once at the first step (all beams are the same
        // sequence), then every running beam; `rows_of[i][b]` is beam b's row.
        let mut rows: Vec<Vec<u32>> = Vec::new();
        let mut parents: Vec<usize> = Vec::new();
        let mut rows_of: Vec<Vec<usize>> = vec![Vec::new(); prompts.len()];
        for (i, search) in searches.iter().enumerate().filter(|(_, s)| !s.done) {
            if step == 1 {
                rows_of[i] = vec![rows.len(); beams];
                rows.push(prompts[i].clone());
                continue;
            }
            for beam in &search.running {
                rows_of[i].push(rows.len());
                parents.push(beam.parent_row);
                rows.push([prompts[i].as_slice(), &beam.tokens].concat());
            }
        }
        if rows.is_empty() {
            break;
        }
        let parents = (step > 1).then_some(parents.as_slice());
        let log_probs = query(model, step, &rows, parents, config.no_repeat_ngram_size)?;
        for (i, search) in searches.iter_mut().enumerate().filter(|(_, s)| !s.done) {
            let beam_rows: Vec<&[f64]> = rows_of[i].iter().map(|&r| &log_probs[r][..]).collect();
            advance(search, &beam_rows, &rows_of[i], step, config);
        }
    }
    Ok(searches.into_iter().map(|s| results(s, config)).collect())
}

/// One step of one prompt's search: steps 1–4 of the module comment.
fn advance(
    search: &mut Search,
    beam_rows: &[&[f64]],
    rows: &[usize],
    step: usize,
    config: &GenerationConfig,
) {
    let beams = config.num_beams;
    let candidates = top_candidates(&search.running, beam_rows, 2 * beams);
    let last = step == config.max_new_tokens;
    let finishes = |c: &Candidate| last || config.eos_token_id == Some(c.token);
    let extend = |c: &Candidate| {
        let mut tokens = search.running[c.beam].tokens.clone();
        tokens.push(c.token);
        tokens
    };

    let full = search.finished.len() == beams;
    if !(full && config.early_stopping == EarlyStopping::WhenFull) {
        let new = candidates
            .iter()
            .take(beams)
            .filter(|c| finishes(c))
            .map(|c| Hypothesis::new(extend(c), c.score, config.length_penalty));
        search.finished.extend(new.collect::<Vec<_>>());
        // Stable: on a tie the hypotheses already there, then rank order, come first.
        search.finished.sort_by(|a, b| descending(a.score, b.score));
        search.finished.truncate(beams);
    }
    if last {
        search.done = true;
        return;
    }

    let mut next: Vec<(f64, &Candidate)> = candidates
        .iter()
        .map(|c| (c.score + if finishes(c) { MASK } else { 0.0 }, c))
        .collect();
    next.sort_by(|a, b| descending(a.0, b.0));
    search.running = next
        .iter()
        .take(beams)
        .map(|&(score, c)| Beam {
            tokens: extend(c),
            score,
            parent_row: rows[c.beam],
        })
        .collect();

    let hypothetical_len = match config.early_stopping {
        EarlyStopping::Never if config.length_penalty > 0.0 => config.max_new_tokens,
        _ => step,
    };
    let best_possible =
        search.running[0].score / (hypothetical_len as f64).powf(config.length_penalty);
    let worst_finished = match search.finished.last() {
        Some(worst) if search.finished.len() == beams => worst.score,
        _ => MASK,
    };
    let full = search.finished.len() == beams;
    // Scores are never NaN (the model's answers are checked), so this is HF's `not (best > worst)`.
    search.done = best_possible <= worst_finished
        || (full && config.early_stopping == EarlyStopping::WhenFull);
}

/// The best `keep` of all (beam, token) continuations by accumulated score, best first, ties to
/// the lower beam and token. Each beam's own best `keep` are found first (a selection, not a sort
/// of the whole vocabulary), since the overall best are among them.
fn top_candidates(running: &[Beam], beam_rows: &[&[f64]], keep: usize) -> Vec<Candidate> {
    let vocab = beam_rows.first().map_or(0, |r| r.len());
    let order = |a: &Candidate, b: &Candidate| {
        descending(a.score, b.score)
            .then(a.beam.cmp(&b.beam))
            .then(a.token.cmp(&b.token))
    };
    let mut all = Vec::with_capacity(running.len() * keep.min(vocab));
    for (b, (beam, row)) in running.iter().zip(beam_rows).enumerate() {
        let mut own: Vec<Candidate> = row
            .iter()
            .enumerate()
            .map(|(v, &lp)| Candidate {
                beam: b,
                token: v as u32,
                score: beam.score + lp,
            })
            .collect();
        if own.len() > keep {
            own.select_nth_unstable_by(keep - 1, order);
            own.truncate(keep);
        }
        all.extend(own);
    }
    all.sort_by(order);
    all.truncate(keep);
    all
}

/// Higher scores first.
fn descending(a: f64, b: f64) -> Ordering {
    b.total_cmp(&a)
}

/// The best `num_return_sequences` finished hypotheses; should a search end with fewer (only
/// when every running beam is at -1e9 or below, e.g. every token banned), its running beams,
/// scored at their length, fill in where HF would return its placeholder rows.
fn results(search: Search, config: &GenerationConfig) -> Vec<Hypothesis> {
    let n = config.num_return_sequences;
    let mut out = search.finished;
    if out.len() < n {
        let fill = search
            .running
            .into_iter()
            .map(|b| Hypothesis::new(b.tokens, b.score, config.length_penalty));
        out.extend(fill.take(n - out.len()));
    }
    out.truncate(n);
    out
}

#[cfg(test)]
#[path = "beam_tests.rs"]
mod tests;
