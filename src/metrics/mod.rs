//! Pure metric functions over predictions and features: no graphs, no files. Classification
//! (accuracy, macro-F1, argmax), BIO span scoring (conlleval semantics) and linear CKA.
mod cka;
mod classification;
mod spans;

pub use cka::linear_cka;
pub use classification::{accuracy_macro_f1, argmax_rows};
pub use spans::{SpanCounts, bio_chunks, span_counts};
