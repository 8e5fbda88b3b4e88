//! `pack = "stream"`: corpus lines packed into full rows across documents (RoBERTa's
//! FULL-SENTENCES, Cramming's packed sequences).
//!
//! One line per row pads every short line up to the row length; packing concatenates
//! consecutive lines with `[SEP]` between them and cuts the stream into rows that fill
//! `seq_len` exactly once the `Batcher` adds `[CLS]` … `[SEP]`, so nearly no position is
//! padding. Masking needs nothing new: `objectives::mask_tokens` only chooses attended ids at or
//! above `NUM_SPECIAL`, so the inner `[SEP]`s, like `[CLS]`, the closing `[SEP]` and `[PAD]`, are
//! never masked nor drawn as random replacements; `causal_lm_labels` predicts an inner `[SEP]`
//! like any token (the end of a line is predictable).

use crate::data::batch::{Item, Target};
use crate::data::error::{DataError, Result};

/// What happens to the stream's last row when it is not full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LastRow {
    /// Keep it (the `Batcher` pads it): every token of the corpus is trained on, and the cost is
    /// at most one partly padded row per corpus. A corpus shorter than one row still gives a row.
    #[default]
    Keep,
    /// Drop it, as streaming pretraining does (RoBERTa, Cramming): every row is full, at the
    /// price of up to `seq_len - 3` tokens never seen.
    Drop,
}

/// The number of token ids a packed item holds: `seq_len` less the `[CLS]` and `[SEP]` that
/// `batch::encode_single` adds around it.
pub fn packed_len(seq_len: usize) -> usize {
    seq_len.saturating_sub(2)
}

/// Concatenates `lines` in order with `sep` between consecutive non-empty lines and cuts the
/// stream into items of exactly `packed_len(seq_len)` ids (rows of exactly `seq_len` once
/// batched); only the last item may be shorter (`last` says whether it is kept).
///
/// - Empty lines contribute nothing, not even a separator.
/// - A line longer than a row continues in the next row.
/// - A row boundary already separates (the `Batcher` closes one row with `[SEP]` and opens the
///   next with `[CLS]`), so a separator that would be a row's first id is dropped; one that falls
///   on a row's last position stays (the row then ends `… [SEP] [SEP]`, as RoBERTa's pairs do).
///
/// Every id of `lines` appears once and in order in the concatenated items; removing the
/// separators gives back the concatenated lines. Errors when `seq_len < 3` (no room for an id).
pub fn pack_lines(
    lines: &[Vec<u32>],
    seq_len: usize,
    sep: u32,
    last: LastRow,
) -> Result<Vec<Item>> {
    let room = packed_len(seq_len);
    if room == 0 {
        return Err(DataError::Batch {
            message: format!("seq_len {seq_len} is too short to pack lines (need at least 3)"),
        });
    }
    let item = |a: Vec<u32>| Item {
        a,
        b: None,
        target: Target::None,
    };
    let mut items = Vec::new();
    let mut row: Vec<u32> = Vec::with_capacity(room);
    for line in lines.iter().filter(|l| !l.is_empty()) {
        // An empty row means the previous line ended exactly at a row boundary (or this is the
        // first line): no separator.
        let ids = (!row.is_empty())
            .then_some(sep)
            .into_iter()
            .chain(line.iter().copied());
        for id in ids {
            row.push(id);
            if row.len() == room {
                items.push(item(std::mem::replace(&mut row, Vec::with_capacity(room))));
            }
        }
    }
    match last {
        LastRow::Keep if !row.is_empty() => items.push(item(row)),
        LastRow::Keep | LastRow::Drop => {}
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::batch::{BatchConfig, Batcher, IGNORE_INDEX};
    use crate::data::objectives::{MlmConfig, mask_tokens};
    use crate::data::packing::fixtures::corpus;
    use crate::data::tokenizer::{CLS_ID, NUM_SPECIAL, PAD_ID, SEP_ID};

    const SEP: u32 = SEP_ID;

    fn without_sep(items: &[Item]) -> Vec<u32> {
        items
            .iter()
            .flat_map(|i| i.a.iter().copied())
            .filter(|&t| t != SEP)
            .collect()
    }

    #[test]
    fn keeps_every_token_once_in_order_in_full_rows() {
        let lines = corpus(500, 5, 40, 1);
        let items = pack_lines(&lines, 48, SEP, LastRow::Keep).unwrap();
        assert_eq!(without_sep(&items), lines.concat());
        let (last, full) = items.split_last().unwrap();
        assert!(full.iter().all(|i| i.a.len() == 46 && i.len() == 48));
        assert!(!last.a.is_empty() && last.a.len() <= 46);
        assert!(
            items
                .iter()
                .all(|i| i.b.is_none() && i.target == Target::None)
        );
        // One separator per line boundary, less those that fell on a row's first position.
        let seps = items
            .iter()
            .flat_map(|i| &i.a)
            .filter(|&&t| t == SEP)
            .count();
        assert!(seps < lines.len() && seps + items.len() >= lines.len() - 1);
        assert!(items.iter().all(|i| i.a.first() != Some(&SEP)));
    }

    #[test]
    fn separators_sit_between_lines() {
        let lines = vec![vec![10, 11], vec![12], vec![13, 14, 15]];
        let items = pack_lines(&lines, 6, SEP, LastRow::Keep).unwrap();
        let rows: Vec<Vec<u32>> = items.into_iter().map(|i| i.a).collect();
        // Rows of 4 ids: [10 11 SEP 12] [13 14 15] (the separator before 13 would open a row).
        assert_eq!(rows, vec![vec![10, 11, SEP, 12], vec![13, 14, 15]]);
        let rows: Vec<Vec<u32>> = pack_lines(&lines, 5, SEP, LastRow::Keep)
            .unwrap()
            .into_iter()
            .map(|i| i.a)
            .collect();
        // Rows of 3 ids: the separator after 12 ends a row.
        assert_eq!(
            rows,
            vec![vec![10, 11, SEP], vec![12, SEP, 13], vec![14, 15]]
        );
    }

    #[test]
    fn edge_cases() {
        // Empty lines add nothing, not even a separator.
        let lines = vec![vec![], vec![10, 11], vec![], vec![], vec![12], vec![]];
        let rows: Vec<Vec<u32>> = pack_lines(&lines, 10, SEP, LastRow::Keep)
            .unwrap()
            .into_iter()
            .map(|i| i.a)
            .collect();
        assert_eq!(rows, vec![vec![10, 11, SEP, 12]]);
        assert!(
            pack_lines(&[vec![], vec![]], 10, SEP, LastRow::Keep)
                .unwrap()
                .is_empty()
        );
        assert!(pack_lines(&[], 10, SEP, LastRow::Keep).unwrap().is_empty());
        // A line longer than a row is split across rows.
        let long: Vec<u32> = (10..30).collect();
        let rows: Vec<Vec<u32>> = pack_lines(&[long.clone(), vec![40]], 8, SEP, LastRow::Keep)
            .unwrap()
            .into_iter()
            .map(|i| i.a)
            .collect();
        assert_eq!(
            rows,
            vec![
                (10..16).collect::<Vec<_>>(),
                (16..22).collect(),
                (22..28).collect(),
                vec![28, 29, SEP, 40],
            ]
        );
        // Dropping the last partial row; a corpus shorter than a row then gives nothing.
        let dropped = pack_lines(&[long, vec![40]], 8, SEP, LastRow::Drop).unwrap();
        assert_eq!(dropped.len(), 3);
        assert!(dropped.iter().all(|i| i.a.len() == 6));
        assert!(
            pack_lines(&[vec![10]], 8, SEP, LastRow::Drop)
                .unwrap()
                .is_empty()
        );
        // The smallest row holds one id: every separator would open a row, so none is kept.
        let rows: Vec<Vec<u32>> = pack_lines(&[vec![10, 11], vec![12]], 3, SEP, LastRow::Keep)
            .unwrap()
            .into_iter()
            .map(|i| i.a)
            .collect();
        assert_eq!(rows, vec![vec![10], vec![11], vec![12]]);
        assert!(pack_lines(&[vec![10]], 2, SEP, LastRow::Keep).is_err());
    }

    /// MLM on packed rows never chooses `[CLS]`, the inner or closing `[SEP]`s or `[PAD]`.
    #[test]
    fn masking_packed_rows_skips_specials() {
        let lines = corpus(200, 5, 40, 2);
        let items = pack_lines(&lines, 48, SEP, LastRow::Keep).unwrap();
        let cfg = MlmConfig {
            prob: 0.5,
            ..Default::default()
        };
        let batcher = Batcher::new(&items, BatchConfig::new(8, 48)).unwrap();
        let vocab = (NUM_SPECIAL as usize) + lines.concat().len() + 1;
        let mut specials = 0;
        for (s, b) in batcher.epoch(0).enumerate() {
            let m = mask_tokens(&b, vocab, &cfg, s as u64).unwrap();
            for (p, &id) in b.input_ids.iter().enumerate() {
                if [CLS_ID, SEP, PAD_ID].contains(&(id as u32)) {
                    specials += 1;
                    assert_eq!(m.labels[p], IGNORE_INDEX, "special id {id} chosen at {p}");
                    assert_eq!(m.input_ids[p], id);
                }
            }
            // Random replacements are never special either.
            let seps = |ids: &[i64]| ids.iter().filter(|&&i| i == SEP as i64).count();
            assert_eq!(seps(&m.input_ids), seps(&b.input_ids));
        }
        assert!(specials > 0);
    }
}
