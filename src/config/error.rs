//! Errors in the experiment input, each naming where the offending value came from (file:line:col,
//! environment variable or `--set` argument), the key path, what was found and what was expected.
//!
//! All of them are user mistakes: the command line maps every [`ConfigError`] to exit code 2.

use std::fmt;
use std::path::PathBuf;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// An experiment file; `line`/`col` are 1-based and absent when the key is not in the text.
    File {
        path: PathBuf,
        pos: Option<(u32, u32)>,
    },
    /// An `EMBEDLAB_*` environment variable.
    Env { var: String },
    /// A `--set KEY=VALUE` argument.
    Set { arg: String },
    /// Built-in defaults (a key no input set).
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File {
                path,
                pos: Some((line, col)),
            } => {
                write!(f, "{}:{line}:{col}", path.display())
            }
            Origin::File { path, pos: None } => write!(f, "{}", path.display()),
            Origin::Env { var } => write!(f, "environment variable {var}"),
            Origin::Set { arg } => write!(f, "--set {arg}"),
            Origin::Default => f.write_str("built-in defaults"),
        }
    }
}

/// " (did you mean 'x'?)" when there is a close candidate, else " (expected one of: a, b)" when
/// the candidates are few enough to list, else nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hint {
    pub suggestion: Option<String>,
    pub allowed: Vec<String>,
}

impl Hint {
    /// The closest of `candidates` to `found`, if close enough to be a likely misspelling.
    pub fn closest<S: AsRef<str>>(found: &str, candidates: &[S]) -> Hint {
        let mut best: Option<(f64, &str)> = None;
        for c in candidates {
            let c = c.as_ref();
            let score = strsim::normalized_damerau_levenshtein(found, c)
                .max(strsim::jaro_winkler(found, c) - 0.15);
            if score >= 0.6 && best.is_none_or(|(b, _)| score > b) {
                best = Some((score, c));
            }
        }
        Hint {
            suggestion: best.map(|(_, c)| c.to_string()),
            allowed: candidates.iter().map(|c| c.as_ref().to_string()).collect(),
        }
    }
}

impl fmt::Display for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(s) = &self.suggestion {
            write!(f, " (did you mean '{s}'?)")
        } else if !self.allowed.is_empty() && self.allowed.len() <= 12 {
            write!(f, " (expected one of: {})", self.allowed.join(", "))
        } else {
            Ok(())
        }
    }
}

/// Which sweep cell an error belongs to, when the experiment has a sweep.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CellNote(pub Option<Box<str>>);

impl fmt::Display for CellNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(cell) => write!(f, " (in sweep cell {cell})"),
            None => Ok(()),
        }
    }
}

/// A mistake in the experiment input. Nothing runs when one is found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read: {message}", path.display())]
    Read { path: PathBuf, message: String },

    #[error("{at}: invalid TOML: {message}")]
    Syntax { at: Box<Origin>, message: String },

    #[error("--set {arg}: {message} (expected KEY=VALUE, e.g. --set encoder.depth=3)")]
    BadSet { arg: String, message: String },

    #[error("{at}: {key}: unknown key{hint}{cell}")]
    UnknownKey {
        at: Box<Origin>,
        key: String,
        hint: Hint,
        cell: CellNote,
    },

    #[error("{at}: {key}: expected {expected}, found {found}{cell}")]
    WrongType {
        at: Box<Origin>,
        key: String,
        expected: String,
        found: String,
        cell: CellNote,
    },

    #[error("{at}: {key}: unknown value {found}{hint}{cell}")]
    UnknownValue {
        at: Box<Origin>,
        key: String,
        found: String,
        hint: Hint,
        cell: CellNote,
    },

    #[error("{at}: {key}: missing (this key has no default){cell}")]
    Missing {
        at: Box<Origin>,
        key: String,
        cell: CellNote,
    },

    #[error("{at}: {key}: {message}{cell}")]
    Invalid {
        at: Box<Origin>,
        key: String,
        message: String,
        cell: CellNote,
    },

    #[error("{at}: sweep: {cells} cells is more than the limit of {limit}")]
    TooManyCells {
        at: Box<Origin>,
        cells: u128,
        limit: usize,
    },
}

/// Joins a key path for messages, quoting segments that are not bare TOML keys
/// (`sweep."encoder.depth"`).
pub fn display_path<S: AsRef<str>>(path: &[S]) -> String {
    let mut out = String::new();
    for (i, seg) in path.iter().enumerate() {
        let seg = seg.as_ref();
        if i > 0 {
            out.push('.');
        }
        let bare = !seg.is_empty()
            && seg
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if bare {
            out.push_str(seg);
        } else {
            out.push_str(&format!("{seg:?}"));
        }
    }
    out
}
