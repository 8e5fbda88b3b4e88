//! Skip-gram training examples as word2vec draws them (Mikolov et al. 2013, and word2vec.c):
//! (centre, context) pairs within a window, fixed or dynamic; frequent-word subsampling; and
//! negatives from the unigram distribution raised to 3/4.
//!
//! Token ids below `NUM_SPECIAL` are never a centre, a context or a negative (they have count 0).
//! Every random choice comes from the caller's RNG, so a run is reproducible from its seed.

use crate::data::tokenizer::NUM_SPECIAL;
use rand::Rng;

/// Which context words a centre word gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Context words on each side of the centre word (at most).
    pub size: usize,
    /// word2vec's dynamic window: each centre word draws a reduced size uniformly in
    /// `1..=size`, so near words are seen more often than far ones (weight (size − d + 1)/size at
    /// distance d). Fixed (`false`): always `size`.
    pub dynamic: bool,
}

/// Occurrences of each id in `seqs` over a vocabulary of `vocab` ids, as f64; specials count 0.
/// Ids at or above `vocab` are not counted.
pub fn unigram_counts(seqs: &[Vec<u32>], vocab: usize) -> Vec<f64> {
    let mut counts = vec![0f64; vocab];
    for &id in seqs.iter().flatten() {
        if id >= NUM_SPECIAL
            && let Some(c) = counts.get_mut(id as usize)
        {
            *c += 1.0;
        }
    }
    counts
}

/// word2vec's keep probability of each id under frequent-word subsampling with threshold `t`
/// (relative frequency; word2vec.c's `sample`): `(√(f/t) + 1) · t/f` for an id of relative
/// frequency `f` (word2vec.c's formula; the paper's `√(t/f)` is its leading term), capped at 1.
/// Ids that never occur, specials included, have probability 0.
pub fn keep_probabilities(counts: &[f64], t: f64) -> Vec<f64> {
    let total: f64 = counts.iter().sum();
    counts
        .iter()
        .map(|&c| {
            if c <= 0.0 {
                return 0.0;
            }
            let f = c / total;
            (((f / t).sqrt() + 1.0) * t / f).min(1.0)
        })
        .collect()
}

/// Appends the (centre, context) pairs of one sequence: for each non-special centre word, the
/// non-special words within its window (drawn from `rng` when dynamic), in sequence order.
/// A fixed window draws nothing from `rng`.
pub fn push_pairs<R: Rng>(seq: &[u32], window: Window, rng: &mut R, out: &mut Vec<(u32, u32)>) {
    for (i, &c) in seq.iter().enumerate() {
        if c < NUM_SPECIAL {
            continue;
        }
        let size = if window.dynamic && window.size > 0 {
            window.size - rng.random_range(0..window.size)
        } else {
            window.size
        };
        let lo = i.saturating_sub(size);
        let hi = (i + size + 1).min(seq.len());
        for (j, &o) in seq.iter().enumerate().take(hi).skip(lo) {
            if j != i && o >= NUM_SPECIAL {
                out.push((c, o));
            }
        }
    }
}

/// All pairs of `seqs` (`push_pairs` on each, in order). With `keep` (from
/// `keep_probabilities`), each sequence is first reduced to the words that survive one draw
/// each, as word2vec reads a sentence: discarded words (and specials, whose probability is 0) do
/// not hold a position, so the window reaches past them.
pub fn skipgram_pairs<R: Rng>(
    seqs: &[Vec<u32>],
    window: Window,
    keep: Option<&[f64]>,
    rng: &mut R,
) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    let mut kept = Vec::new();
    for s in seqs {
        match keep {
            None => push_pairs(s, window, rng, &mut out),
            Some(p) => {
                kept.clear();
                for &id in s {
                    let p = p.get(id as usize).copied().unwrap_or(0.0);
                    if p >= 1.0 || (p > 0.0 && rng.random::<f64>() < p) {
                        kept.push(id);
                    }
                }
                push_pairs(&kept, window, rng, &mut out);
            }
        }
    }
    out
}

/// Negatives drawn from counts raised to a power (word2vec: 3/4), by inverse CDF: the exact
/// distribution word2vec.c's 10⁸-entry table approximates.
#[derive(Debug, Clone, PartialEq)]
pub struct NegativeSampler {
    cdf: Vec<f64>,
    total: f64,
}

impl NegativeSampler {
    /// `None` when no id has a positive count.
    pub fn new(counts: &[f64], power: f64) -> Option<NegativeSampler> {
        let mut cdf: Vec<f64> = counts.iter().map(|c| c.powf(power)).collect();
        for i in 1..cdf.len() {
            cdf[i] += cdf[i - 1];
        }
        let total = *cdf.last()?;
        (total > 0.0).then_some(NegativeSampler { cdf, total })
    }

    /// One id, with probability proportional to its count^power.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> u32 {
        let x = rng.random::<f64>() * self.total;
        self.cdf.partition_point(|&v| v < x).min(self.cdf.len() - 1) as u32
    }

    /// One id other than `positive` (word2vec skips a negative equal to the target; a static
    /// batch shape redraws instead), giving up after `tries` draws.
    pub fn sample_other<R: Rng>(&self, rng: &mut R, positive: u32, tries: usize) -> u32 {
        let mut id = self.sample(rng);
        for _ in 1..tries {
            if id != positive {
                break;
            }
            id = self.sample(rng);
        }
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const W: u32 = NUM_SPECIAL;

    #[test]
    fn fixed_window_pairs_in_order() {
        // ids W..W+4 with a special (1) in the middle: it is neither centre nor context, but
        // holds its position.
        let seq = vec![W, W + 1, 1, W + 2];
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let pairs = skipgram_pairs(
            &[seq],
            Window {
                size: 2,
                dynamic: false,
            },
            None,
            &mut rng,
        );
        assert_eq!(
            pairs,
            vec![(W, W + 1), (W + 1, W), (W + 1, W + 2), (W + 2, W + 1)]
        );
        // A fixed window without subsampling draws nothing.
        assert_eq!(rng, ChaCha8Rng::seed_from_u64(0));
    }

    #[test]
    fn dynamic_window_weights_distances() {
        let seq: Vec<u32> = (0..2000).map(|i| W + (i % 50)).collect();
        let window = Window {
            size: 4,
            dynamic: true,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut out = Vec::new();
        push_pairs(&seq, window, &mut rng, &mut out);
        // Distance d is kept with probability (5 − d)/4: 1, ¾, ½, ¼.
        let mut by_distance = [0usize; 5];
        for &(c, o) in &out {
            let d = (c as i64 - o as i64)
                .rem_euclid(50)
                .min((o as i64 - c as i64).rem_euclid(50));
            by_distance[d as usize] += 1;
        }
        let per_centre = |d: usize| by_distance[d] as f64 / (2.0 * seq.len() as f64);
        for (d, expect) in [(1, 1.0), (2, 0.75), (3, 0.5), (4, 0.25)] {
            assert!(
                (per_centre(d) - expect).abs() < 0.04,
                "distance {d}: {}",
                per_centre(d)
            );
        }
    }

    #[test]
    fn subsampling_follows_word2vec() {
        // f = 0.5 with t = 0.01: (√50 + 1) · 0.02 ≈ 0.1614; f = 0.001: capped at 1.
        let p = keep_probabilities(&[0.0, 500.0, 499.0, 1.0], 0.01);
        assert_eq!(p[0], 0.0);
        assert!((p[1] - ((50f64).sqrt() + 1.0) * 0.02).abs() < 1e-12);
        assert_eq!(p[3], 1.0);
        // Discarded words free their positions: with only W kept, W and W+2 become neighbours.
        let keep = [vec![0.0; W as usize], vec![1.0, 0.0, 1.0]].concat();
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let window = Window {
            size: 1,
            dynamic: false,
        };
        let pairs = skipgram_pairs(&[vec![W, W + 1, 2, W + 2]], window, Some(&keep), &mut rng);
        assert_eq!(pairs, vec![(W, W + 2), (W + 2, W)]);
    }

    #[test]
    fn negatives_follow_counts_to_the_power() {
        let counts = [0.0, 0.0, 16.0, 1.0];
        let s = NegativeSampler::new(&counts, 0.75).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let n = 20000;
        let mut hits = [0usize; 4];
        for _ in 0..n {
            hits[s.sample(&mut rng) as usize] += 1;
        }
        // 16^¾ = 8 against 1: 8/9 of the draws.
        assert_eq!(hits[0] + hits[1], 0);
        assert!((hits[2] as f64 / n as f64 - 8.0 / 9.0).abs() < 0.01);
        assert!((0..100).all(|_| s.sample_other(&mut rng, 2, 64) == 3));
        assert!(NegativeSampler::new(&[0.0, 0.0], 0.75).is_none());
    }

    #[test]
    fn counts_skip_specials_and_out_of_range_ids() {
        let counts = unigram_counts(&[vec![0, 3, W, W, W + 1], vec![W + 9]], (W + 2) as usize);
        assert_eq!(&counts[W as usize..], &[2.0, 1.0]);
        assert!(counts[..W as usize].iter().all(|&c| c == 0.0));
    }
}
