//! `pack = "masked"`: rows filled across documents without cross-contamination (Krell et al.
//! 2021, "Efficient Sequence Packing without Cross-contamination").
//!
//! A row holds `[CLS] doc [SEP] [CLS] doc [SEP] …`: every document, or the piece of a long one
//! that a row holds, reads like a downstream input. Two graph inputs keep the pieces apart:
//! `document_mask [B, T, T]` (1 where query and key are in the same piece: attention is
//! block-diagonal) and `position_ids [B, T]` (restarting at 0 at each piece's `[CLS]`). A
//! document longer than what is left of a row continues in the next row, whose `[CLS]` opens
//! its next piece, as `pack = "documents"` cuts it. A new piece needs room for `[SEP] [CLS]`
//! and one id; with less room left the row is closed and padded.

use super::documents::{joined, plain, room};
use crate::data::batch::{Batch, IGNORE_INDEX, Item};
use crate::data::error::Result;

/// Where a row's pieces start: positions in the batched row, `[CLS]` … `[SEP]` included (the
/// first is always 0, the row's own `[CLS]`).
pub type Starts = Vec<usize>;

/// Packed rows and, for each, where its pieces start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaskedRows {
    pub items: Vec<Item>,
    pub starts: Vec<Starts>,
}

/// Documents (their lines joined with `sep`) packed into items of `packed_len(seq_len)` ids as
/// `doc [SEP] [CLS] doc …` (the `Batcher` adds the row's first `[CLS]` and last `[SEP]`), in
/// order; only the last item, and an item closed for lack of room, may be shorter. A
/// separator of a document's own lines that would open a piece is dropped. Every id of every
/// line appears once and in order. Errors when `seq_len < 3`.
pub fn pack_masked(
    docs: &[Vec<Vec<u32>>],
    seq_len: usize,
    sep: u32,
    cls: u32,
) -> Result<MaskedRows> {
    let room = room(seq_len, "pack documents")?;
    let mut out = MaskedRows::default();
    let mut row: Vec<u32> = Vec::with_capacity(room);
    let mut starts: Starts = vec![0];
    let flush = |row: &mut Vec<u32>, starts: &mut Starts, out: &mut MaskedRows| {
        out.items
            .push(plain(std::mem::replace(row, Vec::with_capacity(room))));
        out.starts.push(std::mem::replace(starts, vec![0]));
    };
    for doc in docs {
        let ids = joined(doc, sep);
        if ids.is_empty() {
            continue;
        }
        if !row.is_empty() {
            if room - row.len() < 3 {
                flush(&mut row, &mut starts, &mut out);
            } else {
                // The `[CLS]` at index k of the item sits at position k + 1 of the row.
                row.push(sep);
                row.push(cls);
                starts.push(row.len());
            }
        }
        for id in ids {
            // A piece opens at the row's start or right after its own `[CLS]`.
            let opens = row.is_empty() || row.last() == Some(&cls);
            if opens && id == sep {
                continue;
            }
            row.push(id);
            if row.len() == room {
                flush(&mut row, &mut starts, &mut out);
            }
        }
    }
    if !row.is_empty() {
        flush(&mut row, &mut starts, &mut out);
    }
    Ok(out)
}

/// The masked packing inputs of one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskedInputs {
    /// `[B, T]`: each position's offset from its piece's `[CLS]`.
    pub position_ids: Vec<i64>,
    /// `[B, T, T]`: 1 where query `i` and key `j` are in the same piece. Padding positions belong
    /// to the row's last piece (the attention mask keeps them out as keys).
    pub document_mask: Vec<i64>,
}

/// Which piece each position of a row of `t` positions is in, for pieces starting at `starts`.
fn pieces(starts: &[usize], t: usize) -> Vec<usize> {
    let mut piece = vec![0; t];
    let mut k = 0;
    for (p, slot) in piece.iter_mut().enumerate() {
        while k + 1 < starts.len() && starts[k + 1] <= p {
            k += 1;
        }
        *slot = k;
    }
    piece
}

/// The piece starts of a batch's rows: an item's own, a padding row's one piece from 0.
fn row_starts<'a>(batch: &'a Batch, starts: &'a [Starts]) -> impl Iterator<Item = &'a [usize]> {
    batch.items.iter().map(move |item| match item {
        Some(i) => starts[*i].as_slice(),
        None => &[0][..],
    })
}

/// `position_ids` and `document_mask` of a batch built from masked rows, `starts` indexed as
/// the `Batcher`'s items are.
pub fn masked_inputs(batch: &Batch, starts: &[Starts]) -> MaskedInputs {
    let (b, t) = (batch.batch_size, batch.seq_len);
    let mut position_ids = Vec::with_capacity(b * t);
    let mut document_mask = Vec::with_capacity(b * t * t);
    for s in row_starts(batch, starts) {
        let piece = pieces(s, t);
        position_ids.extend((0..t).map(|p| (p - s[piece[p]]) as i64));
        for i in 0..t {
            document_mask.extend((0..t).map(|j| (piece[i] == piece[j]) as i64));
        }
    }
    MaskedInputs {
        position_ids,
        document_mask,
    }
}

/// Causal-LM labels (`objectives::causal_lm_labels`) without the targets that cross a piece
/// boundary: the `[SEP]` closing a piece is not trained to predict the next piece's `[CLS]`.
pub fn within_pieces(labels: &mut [i64], batch: &Batch, starts: &[Starts]) {
    let t = batch.seq_len;
    for (r, s) in row_starts(batch, starts).enumerate() {
        for &start in s.iter().skip(1) {
            labels[r * t + start - 1] = IGNORE_INDEX;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::batch::{BatchConfig, Batcher};
    use crate::data::objectives::causal_lm_labels;
    use crate::data::packing::fixtures::documents;
    use crate::data::tokenizer::{CLS_ID, SEP_ID};

    #[test]
    fn every_token_once_in_order_each_piece_one_document() {
        let docs = documents(400, 3, 1, 40, 9);
        let rows = pack_masked(&docs, 48, SEP_ID, CLS_ID).unwrap();
        assert_eq!(rows.items.len(), rows.starts.len());
        let ids: Vec<u32> = rows
            .items
            .iter()
            .flat_map(|i| i.a.iter().copied())
            .filter(|&t| t != SEP_ID && t != CLS_ID)
            .collect();
        let lines: Vec<u32> = docs.iter().flatten().flatten().copied().collect();
        assert_eq!(ids, lines);
        let doc_of: std::collections::HashMap<u32, usize> = docs
            .iter()
            .enumerate()
            .flat_map(|(d, doc)| doc.iter().flatten().map(move |&t| (t, d)))
            .collect();
        let mut several = 0;
        for (item, s) in rows.items.iter().zip(&rows.starts) {
            assert!(item.a.len() <= 46);
            assert_eq!(s[0], 0);
            // The row as batched: [CLS] a [SEP]; piece k spans starts[k]..starts[k+1].
            let mut row = vec![CLS_ID];
            row.extend(&item.a);
            row.push(SEP_ID);
            let mut bounds = s.clone();
            bounds.push(row.len());
            for w in bounds.windows(2) {
                let piece = &row[w[0]..w[1]];
                assert_eq!(piece[0], CLS_ID);
                assert_eq!(*piece.last().unwrap(), SEP_ID);
                let owners: std::collections::BTreeSet<usize> = piece
                    .iter()
                    .filter(|&&t| t != SEP_ID && t != CLS_ID)
                    .map(|t| doc_of[t])
                    .collect();
                assert_eq!(owners.len(), 1, "a piece holds documents {owners:?}");
            }
            several += (s.len() > 1) as usize;
        }
        // Rows are filled across documents: most rows hold several pieces, and nearly every
        // row is full.
        assert!(several * 2 > rows.items.len());
        let full = rows.items.iter().filter(|i| i.a.len() >= 44).count();
        assert!(
            full * 10 >= rows.items.len() * 9,
            "{full} of {}",
            rows.items.len()
        );
    }

    #[test]
    fn layout_of_a_small_case() {
        // Rows of 8 ids: [1 2 3 SEP CLS 4 5 SEP] cannot hold another piece after 5 (room 1);
        // the next row: [6 7 … ] continuing a long document.
        let docs = vec![
            vec![vec![10, 11, 12]],
            vec![vec![13, 14]],
            vec![vec![15, 16, 17, 18, 19, 20, 21, 22, 23, 24]],
        ];
        let rows = pack_masked(&docs, 10, SEP_ID, CLS_ID).unwrap();
        let items: Vec<Vec<u32>> = rows.items.iter().map(|i| i.a.clone()).collect();
        assert_eq!(
            items,
            vec![
                vec![10, 11, 12, SEP_ID, CLS_ID, 13, 14],
                vec![15, 16, 17, 18, 19, 20, 21, 22],
                vec![23, 24],
            ]
        );
        assert_eq!(rows.starts, vec![vec![0, 5], vec![0], vec![0]]);
    }

    /// Position ids restart at every piece's `[CLS]`, the mask is block-diagonal by piece, and
    /// causal-LM targets never cross a piece boundary.
    #[test]
    fn position_ids_restart_per_document() {
        let docs = vec![vec![vec![10, 11]], vec![vec![12, 13, 14]], vec![vec![15]]];
        let rows = pack_masked(&docs, 16, SEP_ID, CLS_ID).unwrap();
        assert_eq!(rows.starts, vec![vec![0, 4, 9]]);
        let batcher = Batcher::new(&rows.items, BatchConfig::new(2, 16)).unwrap();
        let batch = batcher.epoch(0).next().unwrap();
        let m = masked_inputs(&batch, &rows.starts);
        // [CLS] 10 11 [SEP] [CLS] 12 13 14 [SEP] [CLS] 15 [SEP] pad pad pad pad
        assert_eq!(
            &m.position_ids[..16],
            &[0, 1, 2, 3, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6]
        );
        // The padding row is one piece.
        assert_eq!(&m.position_ids[16..], &(0..16).collect::<Vec<i64>>()[..]);
        let at = |i: usize, j: usize| m.document_mask[i * 16 + j];
        assert_eq!(at(1, 2), 1);
        assert_eq!(at(1, 4), 0);
        assert_eq!(at(5, 3), 0);
        assert_eq!(at(8, 4), 1);
        assert_eq!(at(10, 8), 0);
        assert_eq!(at(10, 9), 1);
        assert!((0..16).all(|j| m.document_mask[16 * 16 + 3 * 16 + j] == 1));
        let mut labels = causal_lm_labels(&batch);
        assert_eq!(labels[3], CLS_ID as i64);
        within_pieces(&mut labels, &batch, &rows.starts);
        assert_eq!(labels[3], IGNORE_INDEX);
        assert_eq!(labels[8], IGNORE_INDEX);
        assert_eq!(labels[4], 12);
        assert_eq!(labels[2], SEP_ID as i64);
    }
}
