//! The entry point, [`run_plan`], and the worker threads: up to `--jobs` workers share one
//! [`Queue`]; each takes a ready stage, reuses it from the store or executes it under the stage's
//! lock, and writes the rows of the runs that stage finished. The intra-op threads are divided
//! among the jobs.

use super::dispatch::run_stage;
use super::options::{RunOptions, RunSummary, threads_per_job};
use super::queue::{FinishedRun, Queue, StageOutcome};
use super::results::RunsTable;
use super::store::{cached_metrics, stage_lock, with_lock};
use crate::experiment::plan::Plan;
use crate::report::board::Board;
use anyhow::{Context, Result};
use std::sync::{Condvar, Mutex};

/// Everything the workers of one grid share.
struct Grid<'a> {
    plan: &'a Plan,
    /// The caller's options with the intra-op threads of one job.
    options: RunOptions,
    results: RunsTable<'a>,
    board: Board,
    summary: Mutex<RunSummary>,
    queue: Mutex<Queue<'a>>,
    wake: Condvar,
}

impl<'a> Grid<'a> {
    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Queue<'a>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A worker: takes ready stages until every run is finished (or the grid stopped).
    fn work(&self) {
        loop {
            let key = {
                let mut q = self.lock_queue();
                loop {
                    if q.fatal.is_some() || q.pending.is_empty() {
                        return;
                    }
                    if let Some(key) = q.take(self.plan) {
                        break key;
                    }
                    if q.running == 0 {
                        q.fatal = Some(anyhow::anyhow!(
                            "no stage of the remaining runs can start (the plan names a stage it does not hold)"
                        ));
                        self.wake.notify_all();
                        return;
                    }
                    q = self.wake.wait(q).unwrap_or_else(|e| e.into_inner());
                }
            };
            let outcome = self.stage(key);
            let finished = self.lock_queue().done(self.plan, key, outcome);
            self.wake.notify_all();
            for run in finished {
                if let Err(e) = self.finish_run(run) {
                    let mut q = self.lock_queue();
                    q.fatal.get_or_insert(e);
                    self.wake.notify_all();
                    return;
                }
            }
        }
    }

    /// Executes a stage, or reuses its outputs. One process at a time per stage: a shard that
    /// finds the stage being computed waits for it and then reuses it.
    fn stage(&self, key: &str) -> StageOutcome {
        let Some(stage) = self.plan.stage(key) else {
            return Err(format!("stage {key} is not in the plan"));
        };
        let out = &self.options.out_dir;
        let outcome = with_lock(&stage_lock(out, key), || {
            if !self.options.fresh
                && let Some(m) = cached_metrics(out, key, |line| self.board.line(line))
            {
                return Ok((m, true));
            }
            run_stage(self.plan, stage, &self.options, &self.board).map(|m| (m, false))
        });
        let mut summary = self.summary.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Ok((m, cached)) => {
                if cached {
                    summary.cached_stages += 1;
                    self.board.stage_cached();
                } else {
                    summary.executed_stages += 1;
                }
                Ok(m)
            }
            Err(e) => {
                summary.executed_stages += 1;
                Err(format!("{}: {e:#}", stage.label))
            }
        }
    }

    /// Writes a finished run's results, counts it and reports it on the board.
    fn finish_run(&self, finished: FinishedRun) -> Result<()> {
        let FinishedRun {
            pos,
            metrics,
            error,
            seconds,
        } = finished;
        let (plan, run) = (self.plan, &self.plan.runs[pos]);
        self.results.write_run(
            plan,
            run,
            &metrics,
            error.as_deref(),
            seconds,
            &self.options,
        )?;
        let mut summary = self.summary.lock().unwrap_or_else(|e| e.into_inner());
        if error.is_some() {
            summary.failed += 1
        } else {
            summary.ok += 1
        }
        drop(summary);
        let status = if error.is_some() { "failed" } else { "ok" };
        let line = format!(
            "[{}/{}] run {} {status} ({seconds:.1}s)",
            pos + 1,
            plan.runs.len(),
            run.run_id
        );
        self.board
            .run_finished(&run.run_id, error.as_deref(), &line);
        Ok(())
    }
}

/// Executes every run of `plan` (or of its shard), with up to `options.jobs` stages at once.
pub fn run_plan(plan: &Plan, options: &RunOptions) -> Result<RunSummary> {
    let exp_dir = options.out_dir.join(&plan.experiment_name);
    std::fs::create_dir_all(exp_dir.join("runs"))
        .with_context(|| format!("cannot create the output directory {}", exp_dir.display()))?;
    let info = crate::runtime::init()?;
    let jobs = options.jobs.max(1);
    let results = RunsTable::new(plan, exp_dir, info.version.clone());
    let done = results.completed_runs(options.fresh)?;
    let mut skipped = 0;
    let mut pending = Vec::new();
    for (pos, run) in plan.runs.iter().enumerate() {
        if options.shard.is_some_and(|s| pos % s.count != s.index) {
            continue;
        }
        if done.contains(&run.run_id) {
            skipped += 1;
        } else {
            pending.push(pos);
        }
    }
    let workers = jobs.min(pending.len()).max(1);
    let grid = Grid {
        plan,
        options: RunOptions {
            threads: threads_per_job(options.threads, jobs),
            ..options.clone()
        },
        results,
        board: Board::new(pending.len() as u64),
        summary: Mutex::new(RunSummary::default()),
        queue: Mutex::new(Queue::new(plan, pending)),
        wake: Condvar::new(),
    };
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| grid.work());
        }
    });
    grid.board.finish();
    if let Some(e) = grid
        .queue
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .fatal
    {
        return Err(e);
    }
    let mut summary = grid.summary.into_inner().unwrap_or_else(|e| e.into_inner());
    summary.skipped = skipped;
    let results = grid.results;
    results.finish()?;
    eprintln!(
        "{}: {} ok, {} failed, {} already complete; stages: {} run, {} reused. Results in {}",
        plan.experiment_name,
        summary.ok,
        summary.failed,
        summary.skipped,
        summary.executed_stages,
        summary.cached_stages,
        results.exp_dir().display()
    );
    Ok(summary)
}
