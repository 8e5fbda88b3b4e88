//! `embedlab run`: the experiment's plan, checked before anything runs or is written, on the
//! runner; `--shard` (or Slurm's array variables) picks this process's share.

use super::cli::RunArgs;
use super::experiment::load_plan;
use super::failure::{Failure, fail, invalid};
use embedlab::experiment::{RunOptions, Shard, run_plan};

pub fn run(args: RunArgs) -> Result<(), Failure> {
    let shard = shard_option(args.shard.as_deref()).map_err(invalid)?;
    let plan = load_plan(&args.input)?;
    // Data, ONNX Runtime and the results folder are checked before anything runs or is written.
    embedlab::experiment::preflight(&plan, &args.out).map_err(invalid)?;
    let options = RunOptions {
        out_dir: args.out,
        jobs: args.jobs as usize,
        fresh: args.fresh,
        threads: plan.cells.first().and_then(|c| c.experiment.threads),
        shard,
    };
    match run_plan(&plan, &options) {
        Ok(summary) if summary.failed == 0 => Ok(()),
        Ok(summary) => Err(Failure::RunsFailed {
            failed: summary.failed,
            total: summary.ok + summary.failed,
        }),
        Err(e) => Err(fail(format!("experiment {}: {e:#}", plan.experiment_name))),
    }
}

/// `--shard I/N` (1-based), else SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT when both are set.
fn shard_option(arg: Option<&str>) -> Result<Option<Shard>, String> {
    let parse = |text: &str, what: &str| -> Result<Option<Shard>, String> {
        let bad = || format!("{what} {text:?}: expected I/N with 1 <= I <= N, e.g. 2/4");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let i: usize = i.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if i < 1 || i > n {
            return Err(bad());
        }
        Ok(Some(Shard {
            index: i - 1,
            count: n,
        }))
    };
    if let Some(arg) = arg {
        return parse(arg, "--shard");
    }
    match (
        std::env::var("SLURM_ARRAY_TASK_ID"),
        std::env::var("SLURM_ARRAY_TASK_COUNT"),
    ) {
        (Ok(id), Ok(count)) => {
            let number = |name: &str, text: &str| -> Result<usize, String> {
                text.trim()
                    .parse()
                    .map_err(|_| format!("{name} {text:?} is not a number"))
            };
            let id = number("SLURM_ARRAY_TASK_ID", &id)?;
            let n = number("SLURM_ARRAY_TASK_COUNT", &count)?;
            // Array ids start at SLURM_ARRAY_TASK_MIN (e.g. --array=1-4), not necessarily 0.
            let min = match std::env::var("SLURM_ARRAY_TASK_MIN") {
                Ok(min) => number("SLURM_ARRAY_TASK_MIN", &min)?,
                Err(_) => 0,
            };
            if n == 0 {
                return Err("SLURM_ARRAY_TASK_COUNT is 0".into());
            }
            Ok(Some(Shard {
                index: id.saturating_sub(min) % n,
                count: n,
            }))
        }
        _ => Ok(None),
    }
}
