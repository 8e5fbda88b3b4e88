//! `pack = "documents"`: rows that never cross a document (RoBERTa's DOC-SENTENCES).
//!
//! A document's lines are joined with `[SEP]` and cut into consecutive rows of
//! `packed_len(seq_len)` ids; the `Batcher` opens each with `[CLS]` and closes it with `[SEP]`,
//! so every row reads like a downstream input. A document's last row is padded, which costs
//! about half a row per document: little for documents far longer than a row, as much as
//! one line per row for documents of one short line (a gloss).

use super::stream::packed_len;
use crate::data::batch::{Item, Target};
use crate::data::error::{DataError, Result};

/// A document's lines joined with `sep` (empty lines add nothing, not even a separator).
pub(super) fn joined(doc: &[Vec<u32>], sep: u32) -> Vec<u32> {
    let mut ids = Vec::new();
    for line in doc.iter().filter(|l| !l.is_empty()) {
        if !ids.is_empty() {
            ids.push(sep);
        }
        ids.extend_from_slice(line);
    }
    ids
}

/// The room a row has for ids, or an error naming `what` when `seq_len < 3`.
pub(super) fn room(seq_len: usize, what: &str) -> Result<usize> {
    match packed_len(seq_len) {
        0 => Err(DataError::Batch {
            message: format!("seq_len {seq_len} is too short to {what} (need at least 3)"),
        }),
        room => Ok(room),
    }
}

/// An item of ids alone (MLM and CLM take their labels from the tokens).
pub(super) fn plain(a: Vec<u32>) -> Item {
    Item {
        a,
        b: None,
        target: Target::None,
    }
}

/// Each document (its lines joined with `sep`) cut into items of at most `packed_len(seq_len)`
/// ids, in order; only a document's last item may be shorter. A separator that would open an
/// item is dropped (the row boundary separates). Every id of every line appears once and in
/// order; no item holds ids of two documents. Errors when `seq_len < 3`.
pub fn pack_documents(docs: &[Vec<Vec<u32>>], seq_len: usize, sep: u32) -> Result<Vec<Item>> {
    let room = room(seq_len, "cut documents into rows")?;
    let mut items = Vec::new();
    for doc in docs {
        let mut row: Vec<u32> = Vec::with_capacity(room);
        for id in joined(doc, sep) {
            if row.is_empty() && id == sep {
                continue;
            }
            row.push(id);
            if row.len() == room {
                items.push(plain(std::mem::replace(&mut row, Vec::with_capacity(room))));
            }
        }
        if !row.is_empty() {
            items.push(plain(row));
        }
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::packing::fixtures::documents;
    use crate::data::tokenizer::SEP_ID;

    #[test]
    fn every_token_once_in_order_and_no_row_holds_two_documents() {
        let docs = documents(300, 4, 1, 60, 3);
        let items = pack_documents(&docs, 32, SEP_ID).unwrap();
        let ids: Vec<u32> = items
            .iter()
            .flat_map(|i| i.a.iter().copied())
            .filter(|&t| t != SEP_ID)
            .collect();
        let lines: Vec<u32> = docs.iter().flatten().flatten().copied().collect();
        assert_eq!(ids, lines);
        // The ids are distinct over the corpus, so each row's document is the one its first id
        // belongs to, and every other id must belong to it too.
        let doc_of: std::collections::HashMap<u32, usize> = docs
            .iter()
            .enumerate()
            .flat_map(|(d, doc)| doc.iter().flatten().map(move |&t| (t, d)))
            .collect();
        for item in &items {
            assert!(item.a.len() <= 30 && !item.a.is_empty());
            assert_ne!(item.a.first(), Some(&SEP_ID));
            let docs: std::collections::BTreeSet<usize> = item
                .a
                .iter()
                .filter(|&&t| t != SEP_ID)
                .map(|t| doc_of[t])
                .collect();
            assert_eq!(docs.len(), 1, "a row holds documents {docs:?}");
        }
        // Every document starts a row: as many rows as documents at least, and a document's
        // rows are full but for its last.
        assert!(items.len() >= docs.len());
    }

    #[test]
    fn long_documents_are_cut_into_consecutive_rows() {
        let doc = vec![(10..25).collect::<Vec<u32>>(), vec![30, 31]];
        let rows: Vec<Vec<u32>> = pack_documents(&[doc, vec![vec![40]]], 8, SEP_ID)
            .unwrap()
            .into_iter()
            .map(|i| i.a)
            .collect();
        // Rows of 6 ids; the separator between the lines opens no row; the second document
        // starts its own row.
        assert_eq!(
            rows,
            vec![
                (10..16).collect::<Vec<_>>(),
                (16..22).collect(),
                vec![22, 23, 24, SEP_ID, 30, 31],
                vec![40],
            ]
        );
        assert!(pack_documents(&[vec![vec![1]]], 2, SEP_ID).is_err());
        assert!(
            pack_documents(&[vec![], vec![vec![]]], 8, SEP_ID)
                .unwrap()
                .is_empty()
        );
    }
}
