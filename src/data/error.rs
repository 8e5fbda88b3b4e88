//! The data layer's error type. Every variant that comes from a file names the file, and the
//! line where there is one, so the CLI can print it as a user mistake (exit code 2).

use std::path::PathBuf;

/// Errors from reading, filtering, tokenizing and batching data.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error(
        "{path}: file not found (hint: data paths are relative to the experiment file's directory)"
    )]
    MissingFile { path: PathBuf },

    /// A file named on the command line (`predict --input`) that does not exist.
    #[error("{path}: file not found")]
    MissingInput { path: PathBuf },

    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path}: not a valid gzip file: {message}")]
    Gzip { path: PathBuf, message: String },

    #[error("{path}:{line}: invalid UTF-8 (hint: data files must be UTF-8 encoded)")]
    InvalidUtf8 { path: PathBuf, line: usize },

    #[error("{path}: no data (the file holds no {what})")]
    EmptyInput { path: PathBuf, what: &'static str },

    #[error(
        "{path}: cannot tell the format from the file name (expected .txt, .tsv, .csv, .jsonl or .conll, optionally with .gz)"
    )]
    UnknownFormat { path: PathBuf },

    #[error("{path}:{line}: column '{column}' ({role}) not found; the columns are: {found}{hint}")]
    MissingColumn {
        path: PathBuf,
        line: usize,
        column: String,
        role: &'static str,
        found: String,
        /// "" or " (did you mean 'x'?)"
        hint: String,
    },

    #[error("{path}:{line}: expected {expected} fields like the header, found {found}")]
    RaggedRow {
        path: PathBuf,
        line: usize,
        expected: usize,
        found: usize,
    },

    #[error("{path}:{line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },

    #[error(
        "{path}:{line}: split '{found}' is not one of train, dev (or validation, valid, val), test"
    )]
    UnknownSplit {
        path: PathBuf,
        line: usize,
        found: String,
    },

    #[error("{path}:{line}: empty {role} (column '{column}')")]
    EmptyField {
        path: PathBuf,
        line: usize,
        column: String,
        role: &'static str,
    },

    #[error("{what}: {message}")]
    InvalidConfig { what: String, message: String },

    #[error("filter.{filter}: invalid regular expression {pattern:?}: {message}")]
    Regex {
        filter: &'static str,
        pattern: String,
        message: String,
    },

    #[error("{what}: nothing left after filtering ({report}) (hint: loosen the filter)")]
    EmptyAfterFilter { what: String, report: String },

    #[error("{what}: the {split} split is empty (hint: check the split column or ratios)")]
    EmptySplit { what: String, split: &'static str },

    #[error(
        "{what}: {split} example {index}: {tags} tags for {words} words (hint: the label of a tagging example holds one tag per whitespace-separated word)"
    )]
    TagCount {
        what: String,
        split: &'static str,
        index: usize,
        tags: usize,
        words: usize,
    },

    #[error("tokenizer: {message}")]
    Tokenizer { message: String },

    #[error("{path}: cannot load tokenizer: {message}")]
    TokenizerFile { path: PathBuf, message: String },

    #[error("batching: {message}")]
    Batch { message: String },
}

pub type Result<T, E = DataError> = std::result::Result<T, E>;

impl DataError {
    pub(crate) fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            DataError::MissingFile {
                path: path.to_path_buf(),
            }
        } else {
            DataError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}
