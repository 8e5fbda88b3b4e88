//! The rows of `mlm`/`clm` pretraining, as `pack` says: one function over the four modes.

use super::documents::{joined, pack_documents, plain};
use super::masked::{Starts, pack_masked};
use super::stream::{LastRow, pack_lines};
use crate::config::Pack;
use crate::data::batch::Item;
use crate::data::error::Result;
use crate::data::tokenizer::{CLS_ID, SEP_ID};

/// Pretraining rows, and where each row's pieces start under `pack = "masked"` (`None` in the
/// other modes, whose graphs take no document mask).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackedRows {
    pub items: Vec<Item>,
    pub starts: Option<Vec<Starts>>,
}

/// Tokenized documents (each a list of lines) as rows of `seq_len`:
/// - `Off`: one document per row (its lines joined with `[SEP]`; the `Batcher` truncates it);
/// - `Stream`: every line of the corpus in order, joined with `[SEP]`, cut into full rows
///   (`stream::pack_lines`, the last row kept);
/// - `Documents`: `documents::pack_documents`;
/// - `Masked`: `masked::pack_masked`.
///
/// Empty lines and documents add nothing.
pub fn pack_rows(docs: &[Vec<Vec<u32>>], pack: Pack, seq_len: usize) -> Result<PackedRows> {
    let items = |items| PackedRows {
        items,
        starts: None,
    };
    Ok(match pack {
        Pack::Off => items(
            docs.iter()
                .map(|d| joined(d, SEP_ID))
                .filter(|a| !a.is_empty())
                .map(plain)
                .collect(),
        ),
        Pack::Stream => {
            let lines: Vec<Vec<u32>> = docs.iter().flatten().cloned().collect();
            items(pack_lines(&lines, seq_len, SEP_ID, LastRow::Keep)?)
        }
        Pack::Documents => items(pack_documents(docs, seq_len, SEP_ID)?),
        Pack::Masked => {
            let rows = pack_masked(docs, seq_len, SEP_ID, CLS_ID)?;
            PackedRows {
                items: rows.items,
                starts: Some(rows.starts),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::packing::fixtures::documents;

    /// On a corpus whose documents are its lines, `Off` and `Stream` give the rows they gave
    /// before documents existed: one line per row, and `pack_lines` over the lines.
    #[test]
    fn line_documents_give_the_rows_of_before() {
        let docs = documents(200, 1, 1, 50, 4);
        let lines: Vec<Vec<u32>> = docs.iter().map(|d| d[0].clone()).collect();
        let off = pack_rows(&docs, Pack::Off, 32).unwrap();
        assert_eq!(
            off.items,
            lines.iter().cloned().map(plain).collect::<Vec<_>>()
        );
        let stream = pack_rows(&docs, Pack::Stream, 32).unwrap();
        assert_eq!(
            stream.items,
            pack_lines(&lines, 32, SEP_ID, LastRow::Keep).unwrap()
        );
        assert!(stream.starts.is_none());
        assert!(pack_rows(&docs, Pack::Masked, 32).unwrap().starts.is_some());
    }
}
