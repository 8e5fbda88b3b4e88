//! Experiment-file types for upstream data: corpora, labeled datasets, filters, tokenizer.
//!
//! Shared by `config` (parsing, validation) and `data` (which executes them).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[corpus.NAME]`: unlabeled text, one document per line (`.gz` read transparently).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorpusConfig {
    /// Path to the text file, relative to the experiment file's directory.
    pub path: PathBuf,
    #[serde(default)]
    pub filter: FilterConfig,
}

/// `[dataset.NAME]`: labeled examples from a TSV, CSV or JSONL file with named columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetConfig {
    /// Path to the data file, relative to the experiment file's directory.
    pub path: PathBuf,
    /// Column holding the (first) text.
    #[serde(default = "default_text_column")]
    pub text: String,
    /// Column holding the second text of a pair task.
    #[serde(default)]
    pub text_pair: Option<String>,
    /// Column holding the label (for tagging: space-separated BIO tags, one per token).
    #[serde(default = "default_label_column")]
    pub label: String,
    /// Column holding the split name (train/dev/test). Exclusive with `ratios`.
    #[serde(default)]
    pub split: Option<String>,
    /// Deterministic seeded split ratios [train, dev, test] when there is no split column.
    #[serde(default)]
    pub ratios: Option<[f64; 3]>,
    #[serde(default)]
    pub split_seed: u64,
    #[serde(default)]
    pub filter: FilterConfig,
    /// What a label found in dev or test but never in train is: an error before anything runs
    /// (the default: usually a typo), or `"ignore"`d (such examples are left out of the scores).
    #[serde(default, skip_serializing_if = "UnseenLabels::is_default")]
    pub unseen_labels: UnseenLabels,
}

/// `unseen_labels`: how a dev/test label absent from train is treated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnseenLabels {
    #[default]
    Error,
    Ignore,
}

impl UnseenLabels {
    /// Left out of serialised configs (and so of stage keys) when it is the default.
    fn is_default(&self) -> bool {
        *self == UnseenLabels::Error
    }
}

fn default_text_column() -> String {
    "text".into()
}
fn default_label_column() -> String {
    "label".into()
}

/// Filters applied to a corpus or dataset, in the order of the fields. Each reports what it removed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    pub min_chars: Option<usize>,
    pub max_chars: Option<usize>,
    /// Minimum / maximum length in whitespace tokens.
    pub min_words: Option<usize>,
    pub max_words: Option<usize>,
    /// Drop exact duplicates (`true`) of the text.
    #[serde(default)]
    pub dedup: bool,
    /// Drop duplicates after lowercasing and folding whitespace and punctuation.
    #[serde(default)]
    pub dedup_normalized: bool,
    /// Keep only texts whose share of CJK characters (among non-space characters) is at least this.
    pub min_cjk_share: Option<f64>,
    /// Keep only texts whose share of Latin letters (among non-space characters) is at least this.
    pub min_latin_share: Option<f64>,
    /// Keep only texts matching this regular expression.
    pub include: Option<String>,
    /// Drop texts matching this regular expression.
    pub exclude: Option<String>,
    /// Keep a seeded random fraction of what is left.
    pub fraction: Option<f64>,
    #[serde(default)]
    pub fraction_seed: u64,
    /// At most this many examples (the first ones) of the train split / of the whole corpus.
    pub max_train: Option<usize>,
    pub max_dev: Option<usize>,
    pub max_test: Option<usize>,
    /// At most this many lines of a corpus.
    pub max_examples: Option<usize>,
}

/// The special tokens every fitted vocabulary holds first (`[PAD]`, `[UNK]`, `[CLS]`, `[SEP]`,
/// `[MASK]`; the data module's `NUM_SPECIAL`), so `vocab_size` must exceed it.
pub const SPECIAL_TOKENS: usize = 5;

/// `[tokenizer]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenizerConfig {
    #[serde(default)]
    pub kind: TokenizerKind,
    #[serde(default = "default_vocab_size")]
    pub vocab_size: usize,
    /// Names of corpora and/or datasets whose (train) texts the tokenizer is fitted on.
    #[serde(default)]
    pub fit_on: Vec<String>,
    /// Lowercase before tokenizing.
    #[serde(default = "yes")]
    pub lowercase: bool,
    /// Minimum frequency of a token or merge to enter the vocabulary.
    #[serde(default = "default_min_frequency")]
    pub min_frequency: u64,
    /// For `kind = "file"`: an existing tokenizer.json.
    #[serde(default)]
    pub path: Option<PathBuf>,
}

impl Default for TokenizerConfig {
    fn default() -> Self {
        TokenizerConfig {
            kind: TokenizerKind::default(),
            vocab_size: default_vocab_size(),
            fit_on: Vec::new(),
            lowercase: true,
            min_frequency: default_min_frequency(),
            path: None,
        }
    }
}

fn default_vocab_size() -> usize {
    8000
}
fn default_min_frequency() -> u64 {
    2
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenizerKind {
    /// One token per character (CJK text is always split per character).
    Char,
    /// Whitespace and punctuation split, whole words.
    Word,
    Bpe,
    #[default]
    Wordpiece,
    /// An existing tokenizer.json named by `path`.
    File,
}

impl TokenizerKind {
    pub const ALL: [&'static str; 5] = ["char", "word", "bpe", "wordpiece", "file"];
}
