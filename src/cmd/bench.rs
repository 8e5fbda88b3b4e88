//! `embedlab bench`: the arguments as benchmark options, the figures printed.

use super::cli::{BenchArgs, BenchConfigArg};
use super::failure::{Failure, fail};
use embedlab::bench::{BenchConfig, BenchOptions};

pub fn bench(args: BenchArgs) -> Result<(), Failure> {
    let config = match args.config {
        BenchConfigArg::A => BenchConfig::A,
        BenchConfigArg::B => BenchConfig::B,
    };
    let defaults = BenchOptions::default();
    let options = BenchOptions {
        steps: args.steps,
        threads: args.threads,
        profile: args.profile,
        cpu_arena: args.cpu_arena.unwrap_or(defaults.cpu_arena),
        memory_pattern: args.memory_pattern.unwrap_or(defaults.memory_pattern),
    };
    let report =
        embedlab::bench::run(config, &options).map_err(|e| fail(format!("bench: {e:#}")))?;
    if args.json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
    } else {
        println!("{report}");
    }
    Ok(())
}
