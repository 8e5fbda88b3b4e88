//! Data: sources, filters, datasets, tokenizers, batching and pretraining objectives' inputs.
//!
//! Imports only `config`; never `experiment`, `model`, `runtime` or `graph`.

pub mod dataset;
pub mod error;
pub mod filter;
pub mod source;
pub mod tokenizer;

pub use dataset::{DEFAULT_RATIOS, Dataset, load_corpus, load_dataset};
pub use error::DataError;
pub use filter::{FilterReport, Filters, cjk_share, latin_share};
pub use source::{Columns, Example, Format, Record, Split, TextLines, read_table, read_text};
pub use tokenizer::{Tok, TokStats, fit};
