//! Pure metric functions over predictions: no graphs, no files. Classification (accuracy,
//! macro-F1, argmax) and BIO span scoring (conlleval semantics).
mod classification;
mod spans;

pub use classification::{accuracy_macro_f1, argmax_rows};
pub use spans::{SpanCounts, bio_chunks, span_counts};
