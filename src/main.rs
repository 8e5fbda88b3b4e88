//! `embedlab`: parses the command line, runs the command (`cmd/`: arguments in, the library
//! called) and maps how it ended to the exit code: 0 every run succeeded, 1 some runs failed
//! (or the command failed while running), 2 invalid input (nothing ran).

mod cmd;

use clap::Parser;
use cmd::{Cli, Command};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => cmd::run(args),
        Command::Plan(args) => cmd::plan(args),
        Command::Report { dir } => cmd::report(&dir),
        Command::Verify { dir } => cmd::verify(&dir),
        Command::Schema => cmd::schema(),
        Command::Bench(args) => cmd::bench(args),
        Command::Graph(args) => cmd::graph(args),
        Command::Export(args) => cmd::export(args),
        Command::Embed(args) => cmd::embed(args),
        Command::Predict(args) => cmd::predict(args),
    };
    cmd::exit_code(outcome)
}
