//! Printing a command's result to stdout.

use super::failure::{Failure, fail};
use std::io::Write;

/// Writes to stdout; a closed pipe (`embedlab plan | head`) is not an error.
pub fn print_stdout(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(fail(format!("cannot write to stdout: {e}"))),
    }
}
