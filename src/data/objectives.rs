//! Pretraining objectives' inputs: MLM masking, causal-LM shifting, NSP/SOP sentence pairs.
//!
//! All are pure functions of their inputs and a seed (derive per step with
//! `batch::derive_seed(run_seed, &[epoch, step])`), so a run is reproducible.

use crate::data::batch::{Batch, IGNORE_INDEX};
use crate::data::error::{DataError, Result};
use crate::data::tokenizer::{MASK_ID, NUM_SPECIAL};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Masked-language-model settings (BERT's defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct MlmConfig {
    /// Share of maskable tokens (not special, not padding) chosen per row.
    pub prob: f64,
    /// Of the chosen tokens: share replaced by `[MASK]` ...
    pub mask_share: f64,
    /// ... and share replaced by a random non-special token; the rest keep their token.
    pub random_share: f64,
    /// Fixed number of masked positions per batch for a static-shape output layer: the flat
    /// position list is padded (position 0, label `IGNORE_INDEX`) or cut to this length (the tokens
    /// beyond it are restored and not predicted). `None`: as many as were chosen.
    pub max_predictions: Option<usize>,
}

impl Default for MlmConfig {
    fn default() -> Self {
        MlmConfig {
            prob: 0.15,
            mask_share: 0.8,
            random_share: 0.1,
            max_predictions: None,
        }
    }
}

impl MlmConfig {
    /// A `max_predictions` that rarely cuts: the expected count for full rows, rounded up, plus
    /// one per row.
    pub fn max_predictions_for(&self, batch_size: usize, seq_len: usize) -> usize {
        (self.prob * (batch_size * seq_len) as f64).ceil() as usize + batch_size
    }
}

/// A masked batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlmBatch {
    /// [batch_size, seq_len] with the chosen tokens replaced.
    pub input_ids: Vec<i64>,
    /// [batch_size, seq_len]: the original token at chosen positions, `IGNORE_INDEX` elsewhere.
    pub labels: Vec<i64>,
    /// Flat indices (row · seq_len + column) of the chosen positions, ascending (then padding).
    pub masked_positions: Vec<i64>,
    /// The original token at each of `masked_positions` (`IGNORE_INDEX` for padding entries).
    pub masked_labels: Vec<i64>,
}

/// Chooses round(prob · n) of each row's n maskable tokens (at least one when n > 0) and
/// replaces them 80/10/10 with `[MASK]` / a random token / themselves. Padding rows
/// (`row_mask` 0) are never masked.
pub fn mask_tokens(
    batch: &Batch,
    vocab_size: usize,
    cfg: &MlmConfig,
    seed: u64,
) -> Result<MlmBatch> {
    if !(cfg.prob > 0.0 && cfg.prob <= 1.0)
        || cfg.mask_share < 0.0
        || cfg.random_share < 0.0
        || cfg.mask_share + cfg.random_share > 1.0 + 1e-9
    {
        return Err(DataError::InvalidConfig {
            what: "mlm".into(),
            message: format!(
                "shares must be in [0, 1] with prob > 0 and mask + random ≤ 1 (found {cfg:?})"
            ),
        });
    }
    if vocab_size <= NUM_SPECIAL as usize {
        return Err(DataError::Batch {
            message: format!("vocab_size {vocab_size} has no non-special tokens"),
        });
    }
    let (bs, len) = (batch.batch_size, batch.seq_len);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut input_ids = batch.input_ids.clone();
    let mut labels = vec![IGNORE_INDEX; bs * len];
    let mut positions = Vec::new();
    for r in 0..bs {
        if batch.row_mask[r] == 0 {
            continue;
        }
        let row = r * len..(r + 1) * len;
        let maskable: Vec<usize> = row
            .filter(|&p| batch.attention_mask[p] == 1 && batch.input_ids[p] >= NUM_SPECIAL as i64)
            .collect();
        if maskable.is_empty() {
            continue;
        }
        let k = ((cfg.prob * maskable.len() as f64).round() as usize).clamp(1, maskable.len());
        let mut chosen: Vec<usize> = rand::seq::index::sample(&mut rng, maskable.len(), k)
            .into_iter()
            .map(|i| maskable[i])
            .collect();
        chosen.sort_unstable();
        for p in chosen {
            labels[p] = batch.input_ids[p];
            let u: f64 = rng.random();
            if u < cfg.mask_share {
                input_ids[p] = MASK_ID as i64;
            } else if u < cfg.mask_share + cfg.random_share {
                input_ids[p] = rng.random_range(NUM_SPECIAL as i64..vocab_size as i64);
            }
            positions.push(p);
        }
    }
    if let Some(max) = cfg.max_predictions {
        for &p in positions.iter().skip(max) {
            input_ids[p] = batch.input_ids[p];
            labels[p] = IGNORE_INDEX;
        }
        positions.truncate(max);
    }
    let mut masked_labels: Vec<i64> = positions.iter().map(|&p| labels[p]).collect();
    let mut masked_positions: Vec<i64> = positions.iter().map(|&p| p as i64).collect();
    if let Some(max) = cfg.max_predictions {
        masked_positions.resize(max, 0);
        masked_labels.resize(max, IGNORE_INDEX);
    }
    Ok(MlmBatch {
        input_ids,
        labels,
        masked_positions,
        masked_labels,
    })
}

/// Causal-LM labels, [batch_size, seq_len]: the next token at each position whose next position
/// is a real token, `IGNORE_INDEX` elsewhere (the last position, padding, padding rows).
pub fn causal_lm_labels(batch: &Batch) -> Vec<i64> {
    let (bs, len) = (batch.batch_size, batch.seq_len);
    let mut labels = vec![IGNORE_INDEX; bs * len];
    for r in 0..bs {
        if batch.row_mask[r] == 0 {
            continue;
        }
        for t in 0..len.saturating_sub(1) {
            let next = r * len + t + 1;
            if batch.attention_mask[next] == 1 && batch.attention_mask[next - 1] == 1 {
                labels[next - 1] = batch.input_ids[next];
            }
        }
    }
    labels
}

/// Sentence-level pretraining objectives over consecutive lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairObjective {
    /// Next-sentence prediction: label 1 when b follows a, 0 when b is a random other line.
    Nsp,
    /// Sentence-order prediction: label 1 when (a, b) are in order, 0 when swapped.
    Sop,
}

/// A sentence pair with its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentencePair<T> {
    pub a: T,
    pub b: T,
    pub label: i64,
}

/// One pair per consecutive pair of lines (i, i+1), each a positive or a negative with
/// probability ½, seeded. NSP negatives take b from a random line other than i and i+1.
pub fn sentence_pairs<T: Clone>(
    lines: &[T],
    objective: PairObjective,
    seed: u64,
) -> Result<Vec<SentencePair<T>>> {
    let need = if objective == PairObjective::Nsp {
        3
    } else {
        2
    };
    if lines.len() < need {
        return Err(DataError::Batch {
            message: format!(
                "{objective:?} needs at least {need} consecutive lines, found {}",
                lines.len()
            ),
        });
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = lines.len();
    let mut out = Vec::with_capacity(n - 1);
    for i in 0..n - 1 {
        let positive = rng.random_bool(0.5);
        let (a, b) = (lines[i].clone(), lines[i + 1].clone());
        out.push(match (objective, positive) {
            (_, true) => SentencePair { a, b, label: 1 },
            (PairObjective::Sop, false) => SentencePair {
                a: b,
                b: a,
                label: 0,
            },
            (PairObjective::Nsp, false) => {
                // A uniform line among the n - 2 that are neither i nor i + 1.
                let mut j = rng.random_range(0..n - 2);
                if j >= i {
                    j += 2;
                }
                SentencePair {
                    a,
                    b: lines[j].clone(),
                    label: 0,
                }
            }
        });
    }
    Ok(out)
}
