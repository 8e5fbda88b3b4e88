//! The padding share of a set of rows: how much of every batch the `Batcher` builds from them
//! is `[PAD]`, counted without building the batches. Pretraining reports it for every `pack`.

use crate::data::batch::{BatchConfig, Batcher, Item};
use crate::data::error::Result;

/// Positions of the batches a `Batcher` builds, and how many of them are padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PaddingStats {
    /// batch_size · row length, summed over the batches of an epoch.
    pub positions: usize,
    /// Positions with attention mask 0, plus every position of a padding row (`row_mask` 0).
    pub padded: usize,
}

impl PaddingStats {
    /// `padded / positions` (0 when there are no positions).
    pub fn share(&self) -> f64 {
        if self.positions == 0 {
            0.0
        } else {
            self.padded as f64 / self.positions as f64
        }
    }
}

/// The padding of the batches `Batcher::new(items, cfg)` builds for epoch 0 (bucketed row
/// lengths and the last batch's padding rows included), counted from the item lengths without
/// building the batches. Errors where `Batcher::new` would.
pub fn padding_stats(items: &[Item], cfg: &BatchConfig) -> Result<PaddingStats> {
    let batcher = Batcher::new(items, cfg.clone())?;
    let mut stats = PaddingStats::default();
    for rows in batcher.order(0).chunks(cfg.batch_size) {
        let len = batcher.row_len(rows);
        let real: usize = rows.iter().map(|&i| items[i].len().min(len)).sum();
        stats.positions += cfg.batch_size * len;
        stats.padded += cfg.batch_size * len - real;
    }
    Ok(stats)
}

/// `padding_stats(items, cfg)?.share()`: the number runs.csv reports.
pub fn padding_share(items: &[Item], cfg: &BatchConfig) -> Result<f64> {
    Ok(padding_stats(items, cfg)?.share())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::batch::Target;
    use crate::data::packing::fixtures::corpus;
    use crate::data::packing::{LastRow, pack_lines};
    use crate::data::tokenizer::SEP_ID;

    #[test]
    fn packed_rows_are_almost_never_padding() {
        let lines = corpus(2000, 5, 40, 7);
        let cfg = BatchConfig {
            shuffle: true,
            seed: 3,
            ..BatchConfig::new(32, 48)
        };
        let packed = pack_lines(&lines, 48, SEP_ID, LastRow::Keep).unwrap();
        let stats = padding_stats(&packed, &cfg).unwrap();
        assert!(
            stats.share() <= 0.05,
            "packed padding share {}",
            stats.share()
        );
        // One line per row wastes about half of every batch on this distribution.
        let unpacked: Vec<Item> = lines
            .iter()
            .map(|l| Item {
                a: l.clone(),
                b: None,
                target: Target::None,
            })
            .collect();
        let share = padding_share(&unpacked, &cfg).unwrap();
        assert!(share > 0.4, "unpacked padding share {share}");
    }

    /// The counts agree with the batches the `Batcher` builds, buckets and padding rows included.
    #[test]
    fn padding_stats_match_the_batches() {
        let lines = corpus(301, 1, 60, 11);
        let items: Vec<Item> = lines
            .iter()
            .map(|l| Item {
                a: l.clone(),
                b: (l.len() % 3 == 0).then(|| l[..l.len() / 2].to_vec()),
                target: Target::None,
            })
            .collect();
        for buckets in [vec![], vec![16, 32]] {
            let cfg = BatchConfig {
                buckets,
                shuffle: true,
                seed: 5,
                ..BatchConfig::new(16, 48)
            };
            let batcher = Batcher::new(&items, cfg.clone()).unwrap();
            let mut expect = PaddingStats::default();
            for b in batcher.epoch(0) {
                expect.positions += b.input_ids.len();
                for (p, &m) in b.attention_mask.iter().enumerate() {
                    expect.padded += (m == 0 || b.row_mask[p / b.seq_len] == 0) as usize;
                }
            }
            assert_eq!(padding_stats(&items, &cfg).unwrap(), expect);
        }
    }
}
