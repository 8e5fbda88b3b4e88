//! Data: sources, filters, datasets, tokenizers, batching and pretraining objectives' inputs.
//!
//! The runner's path through it:
//! ```text
//! load_corpus / load_dataset      source (read) -> split -> filter (with FilterReport)
//! tokenizer::fit_in               fit on corpus lines + Dataset::train_texts(), or load a file
//! corpus_items / class_items / tag_items / sentence_pairs + sentence_pair_items
//! load_corpus_documents / pack_rows   documents into rows (pretraining's `pack`)
//! Batcher::new(items, cfg).epoch(e)    fixed-shape i64 batches
//! mask_tokens / causal_lm_labels       MLM / CLM inputs and labels for a batch
//! ```
//! Modules: `source` (files), `filter`, `dataset` (loading, splits, labels), `tokenizer`,
//! `items` (examples to token ids), `documents` (what a corpus's document is), `packing`
//! (documents into rows: the `pack` modes, masked packing's inputs, padding share),
//! `batch` (rows, batches), `objectives` (MLM, CLM, NSP, SOP), `skipgram` (word2vec's pairs,
//! subsampling and negatives), `windows` (long inputs: overlapping windows, what truncation
//! cuts), `window_items` (long examples as one item per window), `error`.
//!
//! Imports only `config`; never `experiment`, `model`, `runtime` or `graph`.

pub mod batch;
pub mod dataset;
pub mod documents;
pub mod error;
pub mod filter;
pub mod items;
pub mod objectives;
pub mod packing;
pub mod skipgram;
pub mod source;
pub mod span;
pub mod squad;
pub mod tokenizer;
pub mod window_items;
pub mod windows;

pub use batch::{
    Batch, BatchConfig, Batcher, IGNORE_INDEX, Item, Labels, Row, Target, derive_seed, encode_pair,
    encode_single,
};
pub use dataset::{DEFAULT_RATIOS, Dataset, load_corpus, load_dataset, read_splits};
pub use documents::{load_corpus_documents, load_dataset_documents};
pub use error::DataError;
pub use filter::{FilterReport, Filters, cjk_share, latin_share};
pub use items::{class_items, corpus_items, sentence_pair_items, tag_items};
pub use objectives::{
    MlmBatch, MlmConfig, PairObjective, SentencePair, causal_lm_labels, mask_tokens, sentence_pairs,
};
pub use packing::{
    LastRow, MaskedInputs, PackedRows, PaddingStats, Starts, masked_inputs, pack_lines, pack_rows,
    packed_len, padding_share, padding_stats, within_pieces,
};
pub use skipgram::{NegativeSampler, Window, keep_probabilities, skipgram_pairs, unigram_counts};
pub use source::{
    Columns, Example, Format, Record, Split, TextLines, digest, read_table, read_text, resolve,
};
pub use span::{
    Answer, Decoded, SpanExample, SpanItem, SpanRow, answer_text, best_in_window,
    best_over_windows, padding_span_row, span_item, span_rows,
};
pub use squad::{SpanDataset, load_span_dataset, looks_like_span};
pub use tokenizer::{Tok, TokStats, fit, fit_in, word_starts};
pub use window_items::{Windowed, window_items};
pub use windows::{
    Truncation, WARN_TRUNCATED_SHARE, best_window, stride_or_default, window_room, windows,
};
