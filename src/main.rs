//! `embedlab`: parses the command line, loads and plans the experiment, hands the plan to the
//! runner, and maps outcomes to exit codes: 0 every run succeeded, 1 some runs failed (or the
//! runner stopped), 2 invalid input (nothing ran).

mod cli;
mod interop_cmd;
mod predict_cmd;
mod predict_io;
mod predict_span;
mod predict_windows;
mod quantize_cmd;

use clap::Parser;
use cli::{BenchArgs, BenchConfigArg, Cli, Command, GraphArgs, InputArgs, PlanArgs, RunArgs};
use embedlab::config::LoadOptions;
use embedlab::experiment::{Plan, RunOptions, Shard, plan_files, run_plan};
use std::process::ExitCode;

const EXIT_FAILED_RUNS: u8 = 1;
const EXIT_INVALID_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args),
        Command::Plan(args) => plan(args),
        Command::Report { dir } => report(&dir),
        Command::Verify { dir } => verify(&dir),
        Command::Schema => schema(),
        Command::Bench(args) => bench(args),
        Command::Graph(args) => graph(args),
        Command::Export(args) => interop_cmd::export(args),
        Command::Embed(args) => interop_cmd::embed(args),
        Command::Predict(args) => predict_cmd::predict(args),
    }
}

fn bench(args: BenchArgs) -> ExitCode {
    let config = match args.config {
        BenchConfigArg::A => embedlab::bench::BenchConfig::A,
        BenchConfigArg::B => embedlab::bench::BenchConfig::B,
    };
    let defaults = embedlab::bench::BenchOptions::default();
    let options = embedlab::bench::BenchOptions {
        steps: args.steps,
        threads: args.threads,
        profile: args.profile,
        cpu_arena: args.cpu_arena.unwrap_or(defaults.cpu_arena),
        memory_pattern: args.memory_pattern.unwrap_or(defaults.memory_pattern),
    };
    match embedlab::bench::run(config, &options) {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string(&report).unwrap_or_default());
            } else {
                println!("{report}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: bench: {e:#}");
            ExitCode::from(EXIT_FAILED_RUNS)
        }
    }
}

fn graph(args: GraphArgs) -> ExitCode {
    let plan = match load_plan(&args.input) {
        Ok(p) => p,
        Err(code) => return code,
    };
    match embedlab::experiment::write_stage_graphs(&plan, &args.stage, &args.out, &args.results) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => invalid(format!("{e:#}")),
    }
}

fn invalid(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_INVALID_INPUT)
}

fn load_plan(input: &InputArgs) -> Result<Plan, ExitCode> {
    let options = LoadOptions {
        files: input.files.clone(),
        sets: input.sets.clone(),
        env: process_env(),
    };
    let plan = plan_files(&options).map_err(invalid)?;
    for warning in &plan.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(plan)
}

/// The process environment; variables that are not Unicode cannot be experiment keys and are skipped.
fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

/// Writes to stdout; a closed pipe (`embedlab plan | head`) is not an error.
fn print_stdout(text: &str) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            ExitCode::from(EXIT_FAILED_RUNS)
        }
    }
}

fn plan(args: PlanArgs) -> ExitCode {
    let mut plan = match load_plan(&args.input) {
        Ok(p) => p,
        Err(code) => return code,
    };
    plan.mark_cached(&args.out);
    if args.json {
        match serde_json::to_string_pretty(&plan) {
            Ok(text) => print_stdout(&(text + "\n")),
            Err(e) => {
                eprintln!("error: cannot write the plan as JSON: {e}");
                ExitCode::from(EXIT_FAILED_RUNS)
            }
        }
    } else {
        let sections = data_report(&plan).and_then(|data| {
            embedlab::experiment::truncation_report(&plan, &args.out).map(|t| data + &t)
        });
        match sections {
            Ok(data) => {
                let mut text = plan.render_text();
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                print_stdout(&(text + &data))
            }
            Err(message) => invalid(message),
        }
    }
}

/// The data section of `plan`: every corpus and dataset read and filtered as a run would, with
/// how many examples each filter removed. A data error is invalid input, found before compute.
fn data_report(plan: &Plan) -> Result<String, String> {
    use std::collections::BTreeSet;
    use std::fmt::Write;
    let mut seen = BTreeSet::new();
    let mut out = String::from("\ndata (after filters)\n");
    for cell in &plan.cells {
        let e = &cell.experiment;
        for (name, c) in &e.corpus {
            if seen.insert(format!("corpus.{name}:{c:?}")) {
                let (_, report) = embedlab::data::load_corpus(c, std::path::Path::new(""))
                    .map_err(|e| format!("corpus.{name}: {e}"))?;
                let _ = writeln!(out, "  corpus.{name}: {}", report.summary());
            }
        }
        for (name, d) in &e.dataset {
            let span = e
                .downstream
                .values()
                .any(|s| s.data == *name && s.task == embedlab::config::DownstreamTask::Span);
            if span && seen.insert(format!("dataset.{name}:{d:?}")) {
                let ds = embedlab::data::load_span_dataset(d, std::path::Path::new(""))
                    .map_err(|e| format!("dataset.{name}: {e}"))?;
                let _ = writeln!(
                    out,
                    "  dataset.{name}: span questions (train {}, dev {}, test {})",
                    ds.train.len(),
                    ds.dev.len(),
                    ds.test.len(),
                );
            }
            if !span && seen.insert(format!("dataset.{name}:{d:?}")) {
                let (ds, report) = embedlab::data::load_dataset(d, std::path::Path::new(""))
                    .map_err(|e| format!("dataset.{name}: {e}"))?;
                let _ = writeln!(
                    out,
                    "  dataset.{name}: {} (train {}, dev {}, test {}; {} labels)",
                    report.summary(),
                    ds.train.len(),
                    ds.dev.len(),
                    ds.test.len(),
                    ds.labels.len()
                );
            }
        }
    }
    Ok(out)
}

fn run(args: RunArgs) -> ExitCode {
    let shard = match shard_option(args.shard.as_deref()) {
        Ok(s) => s,
        Err(message) => return invalid(message),
    };
    let plan = match load_plan(&args.input) {
        Ok(p) => p,
        Err(code) => return code,
    };
    // Data, ONNX Runtime and the results folder are checked before anything runs or is written.
    if let Err(e) = embedlab::experiment::preflight(&plan, &args.out) {
        return invalid(e);
    }
    let options = RunOptions {
        out_dir: args.out,
        jobs: args.jobs as usize,
        fresh: args.fresh,
        threads: plan.cells.first().and_then(|c| c.experiment.threads),
        shard,
    };
    match run_plan(&plan, &options) {
        Ok(summary) if summary.failed == 0 => ExitCode::SUCCESS,
        Ok(summary) => {
            eprintln!(
                "{} of {} runs failed",
                summary.failed,
                summary.ok + summary.failed
            );
            ExitCode::from(EXIT_FAILED_RUNS)
        }
        Err(e) => {
            eprintln!("error: experiment {}: {e:#}", plan.experiment_name);
            ExitCode::from(EXIT_FAILED_RUNS)
        }
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

fn report(dir: &std::path::Path) -> ExitCode {
    if !dir.is_dir() {
        return invalid(format!("{}: no such results folder", dir.display()));
    }
    match embedlab::report::rebuild(dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: report {}: {e:#}", dir.display());
            ExitCode::from(EXIT_FAILED_RUNS)
        }
    }
}

/// `verify DIR`: 0 when nothing is damaged, 1 when something is, 2 when DIR is no results folder.
fn verify(dir: &std::path::Path) -> ExitCode {
    match embedlab::experiment::verify::verify_results(dir) {
        Ok(report) => {
            let code = print_stdout(&report.render());
            if report.is_clean() {
                code
            } else {
                ExitCode::from(EXIT_FAILED_RUNS)
            }
        }
        Err(e) => invalid(e),
    }
}

fn schema() -> ExitCode {
    match serde_json::to_string_pretty(&embedlab::config::json_schema()) {
        Ok(text) => print_stdout(&(text + "\n")),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_FAILED_RUNS)
        }
    }
}
