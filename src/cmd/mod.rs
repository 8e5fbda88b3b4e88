//! The binary's commands: each parses its arguments into the library's options, calls the
//! library, prints what it reports, and returns a `Failure` that `failure::exit_code` turns
//! into the exit code (the one place that does). What a command does lives in the library.
mod bench;
mod cli;
mod experiment;
mod export;
mod failure;
mod plan;
mod predict;
mod results;
mod run;
mod stdout;

pub use bench::bench;
pub use cli::{Cli, Command};
pub use export::{embed, export};
pub use failure::exit_code;
pub use plan::{graph, plan, schema};
pub use predict::predict;
pub use results::{report, verify};
pub use run::run;
