//! Pure metric functions over predictions and features: no graphs, no files. Classification
//! (accuracy, macro-F1, argmax), BIO span scoring (conlleval semantics), extractive QA (SQuAD
//! v1.1's exact match and token F1), linear CKA, and generation metrics held to their reference
//! packages: corpus BLEU and chrF as sacrebleu computes them, ROUGE-L as rouge-score does;
//! and the catalogue of the metrics' names, directions and labels, with the reading of a
//! runs.csv column (`catalogue`).
mod bleu;
mod catalogue;
mod chrf;
mod cka;
mod classification;
mod pystr;
mod rouge;
mod spans;
mod squad;

pub use bleu::{
    BLEU_SIGNATURE, BleuConfig, BleuScore, BleuStats, BleuTokenizer, MAX_NGRAM_ORDER,
    SACREBLEU_VERSION, Smoothing, corpus_bleu, tokenize_13a,
};
pub use catalogue::{Column, Metric, Split};
pub use chrf::{ChrfConfig, ChrfStats, corpus_chrf};
pub use cka::linear_cka;
pub use classification::{accuracy_macro_f1, argmax_rows};
pub use rouge::{RougeScore, corpus_rouge_l, rouge_l, rouge_tokenize};
pub use spans::{SpanCounts, bio_chunks, span_counts};
pub use squad::{exact_match, max_over_golds, normalize_answer, squad_scores, token_f1};
