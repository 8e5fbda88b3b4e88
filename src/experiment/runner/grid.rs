//! The entry point, [`run_plan`], and the worker threads: up to `--jobs` workers share one
//! [`Queue`]; each takes a ready stage, reuses it from the store or executes it under the stage's
//! lock, and reports the runs that stage finished. Everything that happens goes out as events
//! ([`crate::report::event`]) to the grid's consumers: the results writer (runs.csv, curves.csv,
//! run folders, the summary at the end) and the progress board. The intra-op threads are divided
//! among the jobs.

use super::dispatch::run_stage;
use super::options::{RunOptions, RunSummary, threads_per_job};
use super::queue::{FinishedRun, Queue, StageOutcome};
use super::results::{Provenance, RunsTable, run_row};
use super::store::{cached_metrics, stage_lock, with_lock};
use crate::experiment::plan::Plan;
use crate::report::board::Board;
use crate::report::event::{Event, GridFinished, Reporter, Reporters, RunFinished};
use anyhow::{Context, Result};
use std::sync::{Condvar, Mutex};

/// Everything the workers of one grid share.
struct Grid<'a> {
    plan: &'a Plan,
    /// The caller's options with the intra-op threads of one job.
    options: RunOptions,
    provenance: Provenance,
    /// The consumers of the grid's events: the results writer, then the board.
    reporters: Reporters<'a>,
    summary: Mutex<RunSummary>,
    queue: Mutex<Queue<'a>>,
    wake: Condvar,
}

impl<'a> Grid<'a> {
    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Queue<'a>> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops the grid on `e` (the first such error is the one `run_plan` returns).
    fn stop(&self, e: anyhow::Error) {
        let mut q = self.lock_queue();
        q.fatal.get_or_insert(e);
        self.wake.notify_all();
    }

    /// Hands `event` to the consumers; one that fails stops the grid.
    fn emit(&self, event: &Event<'_>) {
        if let Err(e) = self.reporters.event(event) {
            self.stop(e);
        }
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
                    self.stop(e);
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
            let damaged = |damage: &str, moved: &str| {
                self.emit(&Event::StageDamaged { key, damage, moved });
            };
            if !self.options.fresh
                && let Some(m) = cached_metrics(out, key, damaged)
            {
                return Ok((m, true));
            }
            run_stage(self.plan, stage, &self.options, &|e| self.emit(e)).map(|m| (m, false))
        });
        let mut summary = self.summary.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Ok((m, cached)) => {
                if cached {
                    summary.cached_stages += 1;
                    drop(summary);
                    self.emit(&Event::StageReused { key });
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

    /// Builds a finished run's row and reports the run to the consumers (which write it to
    /// runs.csv and show it on the board), then counts it.
    fn finish_run(&self, finished: FinishedRun) -> Result<()> {
        let FinishedRun {
            pos,
            metrics,
            error,
            seconds,
        } = finished;
        let (plan, run) = (self.plan, &self.plan.runs[pos]);
        let row = run_row(
            plan,
            run,
            &metrics,
            error.as_deref(),
            seconds,
            &self.options,
            &self.provenance,
        );
        self.reporters.event(&Event::RunFinished(RunFinished {
            run_id: &run.run_id,
            position: pos,
            runs: plan.runs.len(),
            error: error.as_deref(),
            seconds,
            metrics: &metrics,
            row: &row,
        }))?;
        let mut summary = self.summary.lock().unwrap_or_else(|e| e.into_inner());
        if error.is_some() {
            summary.failed += 1
        } else {
            summary.ok += 1
        }
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
    let results = RunsTable::new(plan, exp_dir.clone(), options.out_dir.clone());
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
        provenance: Provenance::new(info.version.clone()),
        // The results first: a run is shown as finished once its row is written.
        reporters: Reporters::new()
            .with(results)
            .with(Board::new(pending.len() as u64)),
        summary: Mutex::new(RunSummary::default()),
        queue: Mutex::new(Queue::new(plan, pending)),
        wake: Condvar::new(),
    };
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| grid.work());
        }
    });
    let stopped = grid.reporters.event(&Event::WorkersStopped);
    let Grid {
        reporters,
        summary,
        queue,
        ..
    } = grid;
    if let Some(e) = queue.into_inner().unwrap_or_else(|e| e.into_inner()).fatal {
        return Err(e);
    }
    stopped?;
    let mut summary = summary.into_inner().unwrap_or_else(|e| e.into_inner());
    summary.skipped = skipped;
    reporters.event(&Event::GridFinished(GridFinished {
        experiment: &plan.experiment_name,
        ok: summary.ok,
        failed: summary.failed,
        skipped: summary.skipped,
        executed_stages: summary.executed_stages,
        cached_stages: summary.cached_stages,
        results: &exp_dir,
    }))?;
    Ok(summary)
}
