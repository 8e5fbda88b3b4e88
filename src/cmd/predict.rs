//! `embedlab predict`: the arguments as `predict::PredictOptions`, a progress bar on a
//! terminal, and the closing line.

use super::cli::PredictArgs;
use super::failure::Failure;
use embedlab::predict::{self, PredictOptions, Progress};
use std::io::IsTerminal;

/// indicatif's bar on stderr when it is a terminal.
#[derive(Default)]
struct Bar(Option<indicatif::ProgressBar>);

impl Progress for Bar {
    fn start(&mut self, total: usize) {
        self.0 = Some(if std::io::stderr().is_terminal() {
            indicatif::ProgressBar::new(total as u64)
        } else {
            indicatif::ProgressBar::hidden()
        });
    }

    fn advance(&mut self, inputs: usize) {
        if let Some(bar) = &self.0 {
            bar.inc(inputs as u64);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

pub fn predict(args: PredictArgs) -> Result<(), Failure> {
    let opts = PredictOptions {
        run: args.run,
        input: args.input,
        out: args.out,
        batch_size: args.batch_size as usize,
        threads: args.threads,
    };
    let job = predict::prepare(&opts)?;
    let written = job.run(&opts, &mut Bar::default())?;
    if let Some(p) = &opts.out {
        eprintln!("wrote {} ({written} predictions)", p.display());
    }
    Ok(())
}
