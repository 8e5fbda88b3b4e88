//! Experiment-file types for upstream data: corpora, labeled datasets, filters, tokenizer.
//!
//! Shared by `config` (parsing, validation) and `data` (which executes them).

use super::limits;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// `[corpus.NAME]`: unlabeled text, one document per line unless `document` says otherwise
/// (`.gz` read transparently).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorpusConfig {
    /// Path to the text file (`.txt`, `.text`, optionally `.gz`), relative to the experiment
    /// file's directory.
    pub path: PathBuf,
    /// Cleaning and subsampling of the lines (see `filter = { ... }`).
    #[serde(default)]
    pub filter: FilterConfig,
    /// What one document of the corpus is, for `mlm`/`clm` pretraining's `pack` (the filters
    /// still see lines; `nsp`/`sop` and the tokenizer read lines).
    #[serde(default, skip_serializing_if = "Document::is_default")]
    #[schemars(extend("default" = "line"))]
    pub document: Document,
}

/// `[corpus.NAME] document`: where a corpus's documents end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Document {
    /// Every line is a document.
    #[default]
    Line,
    /// A blank line ends a document: its lines are the runs of non-blank lines between blank
    /// lines, joined with `[SEP]` when packed.
    BlankLine,
}

impl Document {
    /// Left out of serialised configs (and so of stage keys) when it is the default.
    fn is_default(&self) -> bool {
        *self == Document::Line
    }
}

/// `[dataset.NAME]`: labeled examples from a TSV, CSV or JSONL file with named columns (or a
/// `.conll`/`.bio` file of `token tag` lines, which has no columns and no split column), given
/// either as one file (`path`, split by a column or by ratios) or as one file per split
/// (`train`, `dev`, `test`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetConfig {
    /// Path to the data file (`.tsv`, `.csv`, `.jsonl`, `.conll`, optionally `.gz`), relative to
    /// the experiment file's directory. Exclusive with `train`/`dev`/`test`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// The train split's own file (any format `path` takes), instead of `path`; needs no split
    /// column or ratios (both are then errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub train: Option<PathBuf>,
    /// The dev split's own file, with `train`. Unset: the dev split is empty (no early stopping
    /// and no dev scores, as with a dev ratio of 0); nothing is carved from train.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<PathBuf>,
    /// The test split's own file, with `train`. Unset: the test split is empty, which a
    /// downstream stage refuses before anything runs (it has nothing to score).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<PathBuf>,
    /// Column holding the (first) text.
    #[serde(default = "default_text_column")]
    pub text: String,
    /// Column holding the second text of a pair task.
    #[serde(default)]
    pub text_pair: Option<String>,
    /// Column holding the label (for tagging: space-separated BIO tags, one per token).
    #[serde(default = "default_label_column")]
    pub label: String,
    /// Column holding the split name (`train`; `dev`, `validation`, `valid` or `val`; `test`).
    /// Exclusive with `ratios`.
    #[serde(default)]
    pub split: Option<String>,
    /// Shares `[train, dev, test]` of a seeded random split, for a file without a split column:
    /// each in [0, 1], train above 0, summing to 1. Unset and without `split`: `[0.8, 0.1, 0.1]`.
    #[serde(default)]
    pub ratios: Option<[f64; 3]>,
    /// Seed of the random split by `ratios`.
    #[serde(default)]
    pub split_seed: u64,
    /// Cleaning and subsampling of the examples (see `filter = { ... }`).
    #[serde(default)]
    pub filter: FilterConfig,
    /// For `task = "span"` tables: the column holding the question.
    #[serde(
        default = "default_question_column",
        skip_serializing_if = "is_question"
    )]
    #[schemars(extend("default" = "question"))]
    pub question: String,
    /// For `task = "span"` tables: the column holding the context the answer is taken from.
    #[serde(default = "default_context_column", skip_serializing_if = "is_context")]
    #[schemars(extend("default" = "context"))]
    pub context: String,
    /// For `task = "span"` tables: the column holding the answer text, a substring of the
    /// context.
    #[serde(default = "default_answer_column", skip_serializing_if = "is_answer")]
    #[schemars(extend("default" = "answer"))]
    pub answer: String,
    /// For `task = "span"` tables: the column holding the answer's first character in the
    /// context (counted in Unicode characters from 0, as SQuAD's `answer_start`).
    #[serde(
        default = "default_answer_start_column",
        skip_serializing_if = "is_answer_start"
    )]
    #[schemars(extend("default" = "answer_start"))]
    pub answer_start: String,
    /// What a label found in dev or test but never in train (usually a typo) does.
    #[serde(default, skip_serializing_if = "UnseenLabels::is_default")]
    #[schemars(extend("default" = "error"))]
    pub unseen_labels: UnseenLabels,
    /// For `mlm`/`clm` pretraining on the dataset (its train split): the column naming each
    /// row's document, so that consecutive rows with the same value are one document (their
    /// texts its lines, joined with `[SEP]` when packed). Unset: every text is a document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
}

/// Where a dataset's examples are read from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DatasetFiles<'a> {
    /// One file, split by a column or by ratios.
    One(&'a std::path::Path),
    /// One file per split; a split without a file is empty.
    PerSplit {
        train: &'a std::path::Path,
        dev: Option<&'a std::path::Path>,
        test: Option<&'a std::path::Path>,
    },
}

impl DatasetConfig {
    /// The file(s) to read. `None` when neither `path` nor `train` is set, or when both are
    /// (validation reports either before anything reads the data).
    pub fn files(&self) -> Option<DatasetFiles<'_>> {
        match (&self.path, &self.train) {
            (Some(p), None) if self.dev.is_none() && self.test.is_none() => {
                Some(DatasetFiles::One(p))
            }
            (None, Some(train)) => Some(DatasetFiles::PerSplit {
                train,
                dev: self.dev.as_deref(),
                test: self.test.as_deref(),
            }),
            _ => None,
        }
    }

    /// Every file the dataset reads, with its key (`path`, `train`, `dev`, `test`).
    pub fn file_keys(&self) -> Vec<(&'static str, &std::path::Path)> {
        [
            ("path", &self.path),
            ("train", &self.train),
            ("dev", &self.dev),
            ("test", &self.test),
        ]
        .into_iter()
        .filter_map(|(k, p)| p.as_deref().map(|p| (k, p)))
        .collect()
    }
}

/// `unseen_labels`: how a dev/test label absent from train is treated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnseenLabels {
    /// Stop before anything runs, naming the label.
    #[default]
    Error,
    /// Leave such examples out of the scores.
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
fn default_question_column() -> String {
    "question".into()
}
fn default_context_column() -> String {
    "context".into()
}
fn default_answer_column() -> String {
    "answer".into()
}
fn default_answer_start_column() -> String {
    "answer_start".into()
}
fn is_question(s: &str) -> bool {
    s == "question"
}
fn is_context(s: &str) -> bool {
    s == "context"
}
fn is_answer(s: &str) -> bool {
    s == "answer"
}
fn is_answer_start(s: &str) -> bool {
    s == "answer_start"
}

/// `filter = { ... }`: cleaning and subsampling steps of a corpus or dataset, run in the order of
/// the keys below, each counting what it removed (the `data.NAME.removed.KEY` metrics). Unset
/// keys do nothing. A dataset's filtered text is `text`, or `text` and `text_pair` joined by a
/// space; the cleaning steps (`min_chars` to `exclude`) apply to every split.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterConfig {
    /// Drop texts shorter than this many characters.
    pub min_chars: Option<usize>,
    /// Drop texts longer than this many characters; at least `min_chars`.
    pub max_chars: Option<usize>,
    /// Drop texts of fewer than this many whitespace-separated words.
    pub min_words: Option<usize>,
    /// Drop texts of more than this many whitespace-separated words; at least `min_words`.
    pub max_words: Option<usize>,
    /// Drop exact duplicates of a text (for a dataset: over train, then dev, then test, so a dev
    /// or test example that repeats a train example goes).
    #[serde(default)]
    pub dedup: bool,
    /// Drop duplicates after lowercasing and folding runs of whitespace and punctuation.
    #[serde(default)]
    pub dedup_normalized: bool,
    /// Keep only texts whose share of CJK characters (among non-space characters) is at least this.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub min_cjk_share: Option<f64>,
    /// Keep only texts whose share of Latin letters (among non-space characters) is at least this.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub min_latin_share: Option<f64>,
    /// Keep only texts matching this regular expression (Rust `regex` syntax).
    pub include: Option<String>,
    /// Drop texts matching this regular expression (Rust `regex` syntax).
    pub exclude: Option<String>,
    /// Keep a seeded random fraction of what is left: of a corpus, or of a dataset's train split
    /// only (dev and test stay whole).
    #[schemars(range(max = 1.0), extend("exclusiveMinimum" = 0.0))]
    pub fraction: Option<f64>,
    /// Seed of the random `fraction`.
    #[serde(default)]
    pub fraction_seed: u64,
    /// Keep at most this many examples (the first ones) of a dataset's train split.
    pub max_train: Option<usize>,
    /// Keep at most this many examples (the first ones) of a dataset's dev split.
    pub max_dev: Option<usize>,
    /// Keep at most this many examples (the first ones) of a dataset's test split.
    pub max_test: Option<usize>,
    /// Keep at most this many lines (the first ones) of a corpus.
    pub max_examples: Option<usize>,
}

/// The special tokens every fitted vocabulary holds first (`[PAD]`, `[UNK]`, `[CLS]`, `[SEP]`,
/// `[MASK]`; the data module's `NUM_SPECIAL`), so `vocab_size` must exceed it.
pub const SPECIAL_TOKENS: usize = 5;

/// `[tokenizer]`: the tokenizer every stage shares, fitted on the experiment's own texts or read
/// from a file. A `pretrain` stage with `task = "import"` of a model directory brings its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenizerConfig {
    /// The tokenization algorithm.
    #[serde(default)]
    pub kind: TokenizerKind,
    /// Vocabulary size to fit, the special tokens `[PAD]`, `[UNK]`, `[CLS]`, `[SEP]`, `[MASK]`
    /// included. Ignored by `kind = "file"`.
    #[serde(default = "default_vocab_size")]
    #[schemars(range(min = SPECIAL_TOKENS + 1, max = limits::VOCAB_SIZE))]
    pub vocab_size: usize,
    /// Names of the corpora and/or datasets whose texts (a dataset's train split) the tokenizer
    /// is fitted on; at least one unless `kind = "file"`.
    #[serde(default)]
    pub fit_on: Vec<String>,
    /// Lowercase before tokenizing.
    #[serde(default = "yes")]
    pub lowercase: bool,
    /// Minimum frequency of a token or merge to enter the vocabulary.
    #[serde(default = "default_min_frequency")]
    pub min_frequency: u64,
    /// For `kind = "file"`: an existing tokenizer.json, relative to the experiment file's
    /// directory.
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
/// `tokenizer.kind`: how text is cut into tokens.
pub enum TokenizerKind {
    /// One token per character (CJK text is always split per character).
    Char,
    /// Whitespace and punctuation split, whole words.
    Word,
    /// Byte-pair encoding.
    Bpe,
    /// BERT's WordPiece: subwords, continuations marked `##`.
    #[default]
    Wordpiece,
    /// An existing tokenizer.json named by `path`.
    File,
}

impl TokenizerKind {
    pub const ALL: [&'static str; 5] = ["char", "word", "bpe", "wordpiece", "file"];
}
