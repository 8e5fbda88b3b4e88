//! Pure metric functions over predictions and features: no graphs, no files. Classification
//! (accuracy, macro-F1, argmax), BIO span scoring (conlleval semantics), extractive QA (SQuAD
//! v1.1's exact match and token F1) and linear CKA; and the catalogue of the metrics' names,
//! directions and labels, with the reading of a runs.csv column (`catalogue`).
mod catalogue;
mod cka;
mod classification;
mod spans;
mod squad;

pub use catalogue::{Column, Metric, Split};
pub use cka::linear_cka;
pub use classification::{accuracy_macro_f1, argmax_rows};
pub use spans::{SpanCounts, bio_chunks, span_counts};
pub use squad::{exact_match, max_over_golds, normalize_answer, squad_scores, token_f1};
