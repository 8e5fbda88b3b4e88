//! Batching: token ids to fixed-shape i64 arrays for static-shape graphs.
//!
//! All arrays are row-major `Vec<i64>` with their shape beside them. A row is
//! `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]`, padded with `[PAD]` (attention mask 0) or truncated
//! to the row length. `token_type_ids` are 0 for the first segment (its `[CLS]` and `[SEP]`
//! included) and 1 for the second. The `Batcher` cuts items into batches of exactly
//! `batch_size` rows: the last partial batch is filled with padding rows (`row_mask` 0, labels
//! ignored) so every batch has the same shape. Padding rows hold `[CLS] [SEP]` with those two
//! positions attended, so no attention row is fully masked.

use crate::data::error::{DataError, Result};
use crate::data::tokenizer::{CLS_ID, PAD_ID, SEP_ID};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Label value that losses ignore (ONNX SoftmaxCrossEntropyLoss `ignore_index`).
pub const IGNORE_INDEX: i64 = -100;

/// One encoded row of fixed length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub input_ids: Vec<i64>,
    pub attention_mask: Vec<i64>,
    pub token_type_ids: Vec<i64>,
}

fn check_len(seq_len: usize, min: usize, what: &str) -> Result<()> {
    if seq_len < min {
        return Err(DataError::Batch {
            message: format!("seq_len {seq_len} is too short for {what} (need at least {min})"),
        });
    }
    Ok(())
}

/// Length of `[CLS] a [SEP]` and of `[CLS] a [SEP] b [SEP]` before padding or truncation.
pub fn encoded_len(a: usize, b: Option<usize>) -> usize {
    match b {
        None => a + 2,
        Some(b) => a + b + 3,
    }
}

/// `[CLS] ids [SEP]`, truncated (ids dropped from the end) or padded to `seq_len`.
pub fn encode_single(ids: &[u32], seq_len: usize) -> Result<Row> {
    check_len(seq_len, 2, "[CLS] text [SEP]")?;
    let n = ids.len().min(seq_len - 2);
    let mut input_ids = Vec::with_capacity(seq_len);
    input_ids.push(CLS_ID as i64);
    input_ids.extend(ids[..n].iter().map(|&i| i as i64));
    input_ids.push(SEP_ID as i64);
    Ok(pad(input_ids, vec![0; n + 2], seq_len))
}

/// How many tokens of each segment fit: longest first, one at a time, until `a + b + 3 ≤ seq_len`.
pub fn truncate_pair(a: usize, b: usize, seq_len: usize) -> (usize, usize) {
    let (mut a, mut b) = (a, b);
    let room = seq_len.saturating_sub(3);
    while a + b > room {
        if a >= b { a -= 1 } else { b -= 1 }
    }
    (a, b)
}

/// `[CLS] a [SEP] b [SEP]` with segment ids 0…0 1…1, truncated longest-first or padded.
pub fn encode_pair(a: &[u32], b: &[u32], seq_len: usize) -> Result<Row> {
    check_len(seq_len, 3, "[CLS] a [SEP] b [SEP]")?;
    let (na, nb) = truncate_pair(a.len(), b.len(), seq_len);
    let mut input_ids = Vec::with_capacity(seq_len);
    input_ids.push(CLS_ID as i64);
    input_ids.extend(a[..na].iter().map(|&i| i as i64));
    input_ids.push(SEP_ID as i64);
    input_ids.extend(b[..nb].iter().map(|&i| i as i64));
    input_ids.push(SEP_ID as i64);
    let mut types = vec![0; na + 2];
    types.extend(std::iter::repeat_n(1, nb + 1));
    Ok(pad(input_ids, types, seq_len))
}

fn pad(mut input_ids: Vec<i64>, mut token_type_ids: Vec<i64>, seq_len: usize) -> Row {
    let n = input_ids.len();
    let mut attention_mask = vec![1; n];
    attention_mask.resize(seq_len, 0);
    input_ids.resize(seq_len, PAD_ID as i64);
    token_type_ids.resize(seq_len, 0);
    Row {
        input_ids,
        attention_mask,
        token_type_ids,
    }
}

/// What a row is trained to predict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Nothing (corpora for MLM / CLM, whose labels come from the tokens).
    None,
    /// A class id, or `IGNORE_INDEX`.
    Class(i64),
    /// One label per token of the first segment (before `[CLS]`/`[SEP]` are added), `IGNORE_INDEX` where
    /// a token has none (continuation pieces of a tagged word).
    Tokens(Vec<i64>),
}

/// A tokenized example: one or two segments of token ids and its target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub a: Vec<u32>,
    pub b: Option<Vec<u32>>,
    pub target: Target,
}

impl Item {
    pub fn len(&self) -> usize {
        encoded_len(self.a.len(), self.b.as_ref().map(Vec::len))
    }

    pub fn is_empty(&self) -> bool {
        self.a.is_empty() && self.b.as_ref().is_none_or(Vec::is_empty)
    }
}

/// Labels of a batch, shaped to match the target kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Labels {
    None,
    /// Shape `[batch_size]`; `IGNORE_INDEX` for padding rows.
    Class(Vec<i64>),
    /// [batch_size, seq_len]; `IGNORE_INDEX` at `[CLS]`, `[SEP]`, padding and unlabeled tokens.
    Tokens(Vec<i64>),
}

/// A batch of exactly `batch_size` rows of `seq_len` tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub batch_size: usize,
    pub seq_len: usize,
    /// [batch_size, seq_len]
    pub input_ids: Vec<i64>,
    /// [batch_size, seq_len]; 1 for real tokens.
    pub attention_mask: Vec<i64>,
    /// [batch_size, seq_len]; segment 0 or 1.
    pub token_type_ids: Vec<i64>,
    /// Shape `[batch_size]`; 1 for a real example, 0 for a padding row of the last batch.
    pub row_mask: Vec<i64>,
    pub labels: Labels,
    /// The item index of each row (`None` for padding rows).
    pub items: Vec<Option<usize>>,
}

impl Batch {
    pub fn shape(&self) -> [usize; 2] {
        [self.batch_size, self.seq_len]
    }

    /// `row_mask` as f32 weights, for losses that average over real rows.
    pub fn row_weights(&self) -> Vec<f32> {
        self.row_mask.iter().map(|&m| m as f32).collect()
    }
}

/// How to batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchConfig {
    pub batch_size: usize,
    /// The longest row; items are truncated to it.
    pub seq_len: usize,
    /// Allowed shorter row lengths (ascending, each ≤ `seq_len`); a batch takes the smallest that
    /// fits its longest item. Empty: every batch has `seq_len`.
    pub buckets: Vec<usize>,
    /// Shuffle the items every epoch (train); otherwise keep their order (eval).
    pub shuffle: bool,
    pub seed: u64,
}

impl BatchConfig {
    pub fn new(batch_size: usize, seq_len: usize) -> BatchConfig {
        BatchConfig {
            batch_size,
            seq_len,
            buckets: Vec::new(),
            shuffle: false,
            seed: 0,
        }
    }
}

/// Mixes a seed with further numbers (epoch, step, ...) into a new seed (SplitMix64 steps).
pub fn derive_seed(seed: u64, parts: &[u64]) -> u64 {
    fn splitmix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    parts
        .iter()
        .fold(splitmix(seed), |acc, &p| splitmix(acc ^ splitmix(p)))
}

/// Cuts items into fixed-shape batches, shuffled per epoch with a seeded RNG.
#[derive(Debug, Clone)]
pub struct Batcher<'a> {
    items: &'a [Item],
    cfg: BatchConfig,
    lens: Vec<usize>,
}

impl<'a> Batcher<'a> {
    pub fn new(items: &'a [Item], cfg: BatchConfig) -> Result<Batcher<'a>> {
        let bad = |message: String| Err(DataError::Batch { message });
        if cfg.batch_size == 0 {
            return bad("batch_size must be at least 1".into());
        }
        if items.is_empty() {
            return bad("no examples to batch".into());
        }
        let pairs = items.iter().any(|i| i.b.is_some());
        check_len(
            cfg.seq_len,
            if pairs { 3 } else { 2 },
            if pairs { "pairs" } else { "[CLS] text [SEP]" },
        )?;
        let mut lens = cfg.buckets.clone();
        if lens.windows(2).any(|w| w[0] >= w[1]) || lens.iter().any(|&l| l > cfg.seq_len || l < 3) {
            return bad(format!(
                "buckets {:?} must be strictly ascending, at least 3 and at most seq_len {}",
                cfg.buckets, cfg.seq_len
            ));
        }
        if lens.last() != Some(&cfg.seq_len) {
            lens.push(cfg.seq_len);
        }
        Ok(Batcher { items, cfg, lens })
    }

    /// The row lengths batches can have (ascending; the last is `seq_len`).
    pub fn seq_lens(&self) -> &[usize] {
        &self.lens
    }

    pub fn batches_per_epoch(&self) -> usize {
        self.items.len().div_ceil(self.cfg.batch_size)
    }

    /// The item order of an epoch: shuffled with a seed derived from (seed, epoch), or as given.
    pub fn order(&self, epoch: u64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.items.len()).collect();
        if self.cfg.shuffle {
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(derive_seed(
                self.cfg.seed,
                &[epoch],
            )));
        }
        order
    }

    /// The batches of an epoch, built lazily.
    pub fn epoch(&self, epoch: u64) -> impl Iterator<Item = Batch> + '_ {
        let order = self.order(epoch);
        let chunks: Vec<Vec<usize>> = order
            .chunks(self.cfg.batch_size)
            .map(<[usize]>::to_vec)
            .collect();
        chunks.into_iter().map(move |rows| self.batch(&rows))
    }

    /// The row length of the batch of these items: the smallest allowed length that fits the
    /// longest, else `seq_len`.
    pub fn row_len(&self, rows: &[usize]) -> usize {
        let longest = rows.iter().map(|&i| self.items[i].len()).max().unwrap_or(2);
        *self
            .lens
            .iter()
            .find(|&&l| l >= longest)
            .unwrap_or(&self.cfg.seq_len)
    }

    /// Builds one batch from item indices (at most `batch_size`; the rest become padding rows).
    pub fn batch(&self, rows: &[usize]) -> Batch {
        let bs = self.cfg.batch_size;
        let seq_len = self.row_len(rows);
        let kind = self.items.first().map(|i| &i.target);
        let mut input_ids = Vec::with_capacity(bs * seq_len);
        let mut attention_mask = Vec::with_capacity(bs * seq_len);
        let mut token_type_ids = Vec::with_capacity(bs * seq_len);
        let mut row_mask = Vec::with_capacity(bs);
        let mut class = Vec::new();
        let mut tokens = Vec::new();
        let mut items = Vec::with_capacity(bs);
        for r in 0..bs {
            let item = rows.get(r).map(|&i| (i, &self.items[i]));
            // seq_len ≥ 3 when pairs are present and ≥ 2 otherwise (checked in `new`), and
            // buckets are ≥ 3, so encoding cannot fail here.
            let row = match item {
                Some((_, it)) => match &it.b {
                    None => encode_single(&it.a, seq_len),
                    Some(b) => encode_pair(&it.a, b, seq_len),
                },
                None => encode_single(&[], seq_len),
            }
            .unwrap_or_else(|_| pad(vec![CLS_ID as i64, SEP_ID as i64], vec![0, 0], seq_len));
            input_ids.extend_from_slice(&row.input_ids);
            attention_mask.extend_from_slice(&row.attention_mask);
            token_type_ids.extend_from_slice(&row.token_type_ids);
            row_mask.push(item.is_some() as i64);
            items.push(item.map(|(i, _)| i));
            match kind {
                Some(Target::Class(_)) => class.push(match item.map(|(_, it)| &it.target) {
                    Some(Target::Class(c)) => *c,
                    _ => IGNORE_INDEX,
                }),
                Some(Target::Tokens(_)) => {
                    let mut labels = vec![IGNORE_INDEX; seq_len];
                    if let Some((_, it)) = item
                        && let Target::Tokens(t) = &it.target
                    {
                        let n = it.a.len().min(t.len()).min(seq_len.saturating_sub(2));
                        labels[1..1 + n].copy_from_slice(&t[..n]);
                    }
                    tokens.extend(labels);
                }
                _ => {}
            }
        }
        let labels = match kind {
            Some(Target::Class(_)) => Labels::Class(class),
            Some(Target::Tokens(_)) => Labels::Tokens(tokens),
            _ => Labels::None,
        };
        Batch {
            batch_size: bs,
            seq_len,
            input_ids,
            attention_mask,
            token_type_ids,
            row_mask,
            labels,
            items,
        }
    }
}
