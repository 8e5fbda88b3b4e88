//! Static word vectors trained upstream: skip-gram with negative sampling over the tokenized
//! corpus, each step one ONNX graph run (loss and gradients) plus the fused host update.

use crate::data::tokenizer::NUM_SPECIAL;
use crate::graph::Tensor;
use crate::model::{self, Mode};
use crate::runtime::SessionOptions;
use crate::train::{self, OptimSpec, Schedule, Trainer};
use anyhow::{Result, bail};
use rand::{Rng, SeedableRng};

/// Settings of the skip-gram trainer.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorsSpec {
    pub dim: usize,
    /// Context words on each side of the centre word.
    pub window: usize,
    pub negatives: usize,
    pub batch: usize,
    pub steps: u64,
    pub lr: f64,
    pub seed: u64,
}

impl VectorsSpec {
    pub fn new(dim: usize, seed: u64) -> VectorsSpec {
        VectorsSpec {
            dim,
            window: 2,
            negatives: 5,
            batch: 512,
            steps: 1500,
            lr: 5e-3,
            seed,
        }
    }
}

/// Trains vectors on token-id sequences over a vocabulary of `vocab` ids; returns the input
/// vectors `[vocab, dim]` (row-major) and the final smoothed loss.
pub fn train_vectors(
    seqs: &[Vec<u32>],
    vocab: usize,
    spec: &VectorsSpec,
    threads: usize,
) -> Result<(Vec<f32>, f64)> {
    let mut pairs = Vec::new();
    let mut counts = vec![0f64; vocab];
    for s in seqs {
        for (i, &c) in s.iter().enumerate() {
            if c < NUM_SPECIAL {
                continue;
            }
            counts[c as usize] += 1.0;
            let lo = i.saturating_sub(spec.window);
            let hi = (i + spec.window + 1).min(s.len());
            for (j, &o) in s.iter().enumerate().take(hi).skip(lo) {
                if j != i && o >= NUM_SPECIAL {
                    pairs.push((c as i64, o as i64));
                }
            }
        }
    }
    if pairs.is_empty() {
        bail!("no (word, context) pairs to train word vectors on");
    }
    // Negatives from the unigram distribution raised to 3/4, by inverse CDF.
    let mut cdf: Vec<f64> = counts.iter().map(|c| c.powf(0.75)).collect();
    for i in 1..cdf.len() {
        cdf[i] += cdf[i - 1];
    }
    let total = *cdf.last().unwrap();
    let tg = model::sgns_graph(
        vocab,
        spec.dim,
        spec.batch,
        spec.negatives,
        &Mode::Train {
            frozen_prefixes: vec![],
        },
    )?;
    let params = train::init_params(&tg.params, spec.seed)?;
    let mut opt = OptimSpec::adamw(spec.lr, spec.steps);
    opt.weight_decay = 0.0;
    opt.clip_norm = 0.0;
    opt.schedule = Schedule::Linear;
    let opts = SessionOptions {
        intra_threads: Some(threads),
        ..Default::default()
    };
    let mut tr = Trainer::new(&tg, None, params, opt, &opts)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(spec.seed);
    let mut ema = f64::NAN;
    for _ in 0..spec.steps {
        let (mut c, mut o) = (
            Vec::with_capacity(spec.batch),
            Vec::with_capacity(spec.batch),
        );
        for _ in 0..spec.batch {
            let (a, b) = pairs[rng.random_range(0..pairs.len())];
            c.push(a);
            o.push(b);
        }
        let neg: Vec<i64> = (0..spec.batch * spec.negatives)
            .map(|_| {
                let x = rng.random::<f64>() * total;
                cdf.partition_point(|&v| v < x).min(vocab - 1) as i64
            })
            .collect();
        let batch = vec![
            ("center".to_string(), Tensor::i64(vec![spec.batch], c)),
            ("context".to_string(), Tensor::i64(vec![spec.batch], o)),
            (
                "negative".to_string(),
                Tensor::i64(vec![spec.batch, spec.negatives], neg),
            ),
        ];
        let s = tr.step(&batch)?;
        ema = if ema.is_nan() {
            s.loss
        } else {
            0.98 * ema + 0.02 * s.loss
        };
    }
    let v = tr
        .params
        .get(model::IN_VECTORS)
        .expect("word2vec.in is a parameter")
        .to_vec();
    Ok((v, ema))
}

/// The `k` ids whose vectors have the highest cosine similarity with `id`'s (specials excluded).
pub fn nearest(vectors: &[f32], dim: usize, id: u32, k: usize) -> Vec<(u32, f32)> {
    let row = |i: usize| &vectors[i * dim..(i + 1) * dim];
    let norm = |r: &[f32]| r.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    let q = row(id as usize);
    let qn = norm(q);
    let mut sims: Vec<(u32, f32)> = (NUM_SPECIAL as usize..vectors.len() / dim)
        .filter(|&i| i != id as usize)
        .map(|i| {
            let r = row(i);
            (
                i as u32,
                q.iter().zip(r).map(|(a, b)| a * b).sum::<f32>() / (qn * norm(r)),
            )
        })
        .collect();
    sims.sort_by(|a, b| b.1.total_cmp(&a.1));
    sims.truncate(k);
    sims
}
