//! The one thing decoding asks of a model: the next-token log-probabilities of a batch of
//! sequences.

use super::error::DecodeError;
use super::ngram::banned_tokens;

/// One model call: the sequences to continue and, after the first call of a generation, where
/// each came from, so a model that keeps a key/value cache can reorder it (HF's
/// `reorder_cache(beam_idx)`) instead of recomputing the prefix.
#[derive(Debug, Clone, Copy)]
pub struct Step<'a> {
    /// Each sequence so far: its prompt, then the tokens generated for it.
    pub sequences: &'a [Vec<u32>],
    /// `None` on a generation's first call; then, for each sequence, the index of the sequence
    /// in the previous call that it extends by its last token.
    pub parents: Option<&'a [usize]>,
}

/// A model that scores the next token: an ONNX decoder, or a scripted test double.
pub trait NextTokenModel {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Number of tokens scored per sequence.
    fn vocab_size(&self) -> usize;

    /// Log-probabilities of every next token after each of `step.sequences` (a log-softmax of
    /// the logits at the last position): `sequences.len() × vocab_size()` values, row-major.
    fn next_log_probs(&mut self, step: &Step<'_>) -> Result<Vec<f32>, Self::Error>;
}

/// Calls the model once (call number `step`), checks its answer, and returns one row of f64
/// log-probabilities per sequence with the `no_repeat_ngram_size` bans set to -inf (HF applies
/// its logits processors to the log-probabilities in beam search and to the logits in greedy
/// search; a ban is -inf either way and the argmax is the same).
pub(crate) fn query<M: NextTokenModel>(
    model: &mut M,
    step: usize,
    sequences: &[Vec<u32>],
    parents: Option<&[usize]>,
    no_repeat_ngram_size: usize,
) -> Result<Vec<Vec<f64>>, DecodeError> {
    let vocab = model.vocab_size();
    let flat = model
        .next_log_probs(&Step { sequences, parents })
        .map_err(|e| DecodeError::Model {
            step,
            source: Box::new(e),
        })?;
    if flat.len() != sequences.len() * vocab {
        return Err(DecodeError::Shape {
            step,
            rows: sequences.len(),
            vocab,
            got: flat.len(),
        });
    }
    let mut rows = Vec::with_capacity(sequences.len());
    for (row, (values, sequence)) in flat.chunks(vocab).zip(sequences).enumerate() {
        if let Some(token) = values
            .iter()
            .position(|v| v.is_nan() || *v == f32::INFINITY)
        {
            return Err(DecodeError::NotFinite {
                step,
                row,
                token,
                value: values[token],
            });
        }
        let mut values: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
        for t in banned_tokens(sequence, no_repeat_ngram_size) {
            if let Some(v) = values.get_mut(t as usize) {
                *v = f64::NEG_INFINITY;
            }
        }
        rows.push(values);
    }
    Ok(rows)
}
