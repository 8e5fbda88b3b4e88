//! The one map from how a command ended to the process's exit code: 0 success, 1 failed runs
//! (or a failure while running), 2 invalid input (nothing ran). Library errors become a
//! `Failure` here, by whose fault they are; messages go to stderr as `error: …`.

use embedlab::export::{EmbedError, ExportError};
use embedlab::predict::PredictError;
use std::process::ExitCode;

/// Some runs failed, or a command failed while running.
pub const EXIT_FAILED_RUNS: u8 = 1;
/// The input (experiment files, arguments, paths, data) is invalid; nothing ran.
pub const EXIT_INVALID_INPUT: u8 = 2;

/// How a command ended other than successfully.
#[derive(Debug)]
pub enum Failure {
    /// Invalid input, found before anything ran: `error: MESSAGE`, exit code 2.
    Invalid(String),
    /// A failure while running: `error: MESSAGE`, exit code 1.
    Failed(String),
    /// `failed` of `total` runs failed (their reasons are in runs.csv): exit code 1.
    RunsFailed { failed: usize, total: usize },
    /// `verify` found damage, and has printed it: exit code 1.
    Damaged,
}

/// Invalid input (exit code 2).
pub fn invalid(message: impl std::fmt::Display) -> Failure {
    Failure::Invalid(message.to_string())
}

/// A failure while running (exit code 1).
pub fn fail(message: impl std::fmt::Display) -> Failure {
    Failure::Failed(message.to_string())
}

/// Reports the outcome on stderr and gives its exit code.
pub fn exit_code(outcome: Result<(), Failure>) -> ExitCode {
    let code = match outcome {
        Ok(()) => return ExitCode::SUCCESS,
        Err(Failure::Invalid(message)) => {
            eprintln!("error: {message}");
            EXIT_INVALID_INPUT
        }
        Err(Failure::Failed(message)) => {
            eprintln!("error: {message}");
            EXIT_FAILED_RUNS
        }
        Err(Failure::RunsFailed { failed, total }) => {
            eprintln!("{failed} of {total} runs failed");
            EXIT_FAILED_RUNS
        }
        Err(Failure::Damaged) => EXIT_FAILED_RUNS,
    };
    ExitCode::from(code)
}

impl From<PredictError> for Failure {
    fn from(e: PredictError) -> Failure {
        match e {
            PredictError::Invalid(_) => invalid(e),
            PredictError::Failed(_) => fail(e),
        }
    }
}

impl From<ExportError> for Failure {
    fn from(e: ExportError) -> Failure {
        match e {
            ExportError::Invalid(_) => invalid(e),
            ExportError::Failed(_) => fail(e),
        }
    }
}

/// `embed` reads stdin and writes stdout.
impl From<EmbedError> for Failure {
    fn from(e: EmbedError) -> Failure {
        match e {
            EmbedError::Read(e) => invalid(format!("reading stdin: {e}")),
            EmbedError::Embed(e) => fail(format!("{e:#}")),
            EmbedError::Write(e) => fail(format!("writing stdout: {e}")),
        }
    }
}
