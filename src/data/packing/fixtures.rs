//! Test corpora for the packing modes.

use crate::data::tokenizer::NUM_SPECIAL;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Lines of `lo..=hi` ids, every id ≥ NUM_SPECIAL and distinct over the corpus (a running
/// counter), so order and duplication errors show.
pub fn corpus(n: usize, lo: usize, hi: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut next = NUM_SPECIAL;
    (0..n)
        .map(|_| {
            let len = rng.random_range(lo..=hi);
            (0..len)
                .map(|_| {
                    next += 1;
                    next
                })
                .collect()
        })
        .collect()
}

/// `n` documents of 1 to `max_lines` lines of `lo..=hi` ids each, ids distinct over the corpus.
pub fn documents(
    n: usize,
    max_lines: usize,
    lo: usize,
    hi: usize,
    seed: u64,
) -> Vec<Vec<Vec<u32>>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let lines = corpus(n * max_lines, lo, hi, seed);
    let mut it = lines.into_iter();
    (0..n)
        .map(|_| {
            (0..rng.random_range(1..=max_lines))
                .filter_map(|_| it.next())
                .collect()
        })
        .collect()
}
