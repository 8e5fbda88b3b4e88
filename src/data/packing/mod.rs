//! Documents into rows for language-model pretraining (`pack`), and the padding share that
//! says how much of a batch is wasted: `rows` (the four modes), `stream` (rows across documents),
//! `documents` (rows within a document), `masked` (rows across documents with a block-diagonal
//! mask and restarting positions), `padding`.

mod documents;
#[cfg(test)]
mod fixtures;
mod masked;
mod padding;
mod rows;
mod stream;

pub use documents::pack_documents;
pub use masked::{MaskedInputs, MaskedRows, Starts, masked_inputs, pack_masked, within_pieces};
pub use padding::{PaddingStats, padding_share, padding_stats};
pub use rows::{PackedRows, pack_rows};
pub use stream::{LastRow, pack_lines, packed_len};
