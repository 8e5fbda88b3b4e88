//! The runtime's error type. Every variant carries the context a person needs to act on it: the
//! graph (session) name, the input or output name, the parameter name, the file, and ONNX
//! Runtime's own message where there is one.

use std::fmt;
use std::path::PathBuf;

/// Where a candidate ONNX Runtime library came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LibrarySource {
    /// The `ORT_DYLIB_PATH` environment variable.
    EnvVar,
    /// An installed `onnxruntime` Python package.
    PythonPackage,
    /// The copy the build script unpacked under `target/`.
    Bundled,
}

impl fmt::Display for LibrarySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LibrarySource::EnvVar => "ORT_DYLIB_PATH",
            LibrarySource::PythonPackage => "onnxruntime Python package",
            LibrarySource::Bundled => "bundled copy (build script)",
        })
    }
}

/// One place the library lookup tried, and why it did not work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibraryAttempt {
    pub source: LibrarySource,
    /// The file tried, when the source got as far as naming one.
    pub path: Option<PathBuf>,
    pub problem: String,
}

impl fmt::Display for LibraryAttempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}: {}", self.source, p.display(), self.problem),
            None => write!(f, "{}: {}", self.source, self.problem),
        }
    }
}

fn list_attempts(attempts: &[LibraryAttempt]) -> String {
    attempts.iter().map(|a| format!("\n  - {a}")).collect()
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// No usable ONNX Runtime library was found; lists every place tried.
    #[error(
        "could not load the ONNX Runtime library; tried:{}\n  hint: set ORT_DYLIB_PATH to a libonnxruntime.so (ONNX Runtime >= 1.{min_minor}), \
         or run `cargo build` with network access so the build script fetches the pinned 1.32.0 copy",
        list_attempts(.attempts),
        min_minor = .min_minor
    )]
    LibraryNotFound {
        attempts: Vec<LibraryAttempt>,
        min_minor: u32,
    },

    /// The library loaded but the ONNX Runtime environment could not be created.
    #[error("creating the ONNX Runtime environment from {}: {message}", .path.display())]
    Environment { path: PathBuf, message: String },

    #[error("graph '{graph}': creating the ONNX Runtime session failed: {message}")]
    SessionCreate { graph: String, message: String },

    #[error("graph '{graph}': run failed: {message}")]
    Run { graph: String, message: String },

    #[error("graph '{graph}': input '{input}': {message}")]
    Feed {
        graph: String,
        input: String,
        message: String,
    },

    #[error("graph '{graph}': no input named '{input}' (the graph's inputs: {available})")]
    UnknownInput {
        graph: String,
        input: String,
        available: String,
    },

    #[error("graph '{graph}': inputs not fed: {missing}")]
    MissingInputs { graph: String, missing: String },

    #[error("graph '{graph}': no output named '{output}' (the run's outputs: {available})")]
    UnknownOutput {
        graph: String,
        output: String,
        available: String,
    },

    #[error("graph '{graph}': output '{output}' holds {found}, asked for {expected}")]
    OutputType {
        graph: String,
        output: String,
        found: String,
        expected: String,
    },

    #[error("parameter '{name}': {message}")]
    Param { name: String, message: String },

    #[error("no parameter named '{name}'")]
    UnknownParam { name: String },

    #[error("{}: {message}", .path.display())]
    Checkpoint { path: PathBuf, message: String },

    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;

impl RuntimeError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        RuntimeError::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn checkpoint(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        RuntimeError::Checkpoint {
            path: path.into(),
            message: message.into(),
        }
    }
    pub(crate) fn param(name: impl Into<String>, message: impl Into<String>) -> Self {
        RuntimeError::Param {
            name: name.into(),
            message: message.into(),
        }
    }
}
