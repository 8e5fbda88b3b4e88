//! The live board on the terminal while a grid runs: one line with runs done/total, stages
//! reused from the cache, failed runs and the ETA, and a bar per stage in progress; finished
//! stages and failures are printed above it as they happen. When stderr is not a terminal (a
//! log file, a test, a Slurm job), the same events are plain lines:
//!
//! ```text
//! pretrain.A: step 2/20 loss 4.7812
//! pretrain.A: done
//! run c002-s1 failed: downstream.C: ...
//! [2/6] run c002-s1 ok (1.3s)
//! tiny: 5 ok, 1 failed, 0 already complete; stages: 9 run, 3 reused. Results in results/tiny
//! ```
//!
//! The board is one consumer of the grid's events ([`super::event`]): it draws them and keeps
//! nothing the results depend on. It is shared by the worker threads of `--jobs N`; indicatif's
//! bars are thread safe, and the counters and the stages in progress sit behind mutexes.

use super::event::{Event, GridFinished, Reporter, RunFinished};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    done: u64,
    failed: u64,
    cached: u64,
}

/// The display of a running grid: indicatif bars on a terminal, plain lines otherwise.
pub struct Board {
    /// The bars, when drawing to a terminal.
    live: Option<Live>,
    counts: Mutex<Counts>,
    /// The stages in progress, by key.
    stages: Mutex<HashMap<String, StageBar>>,
}

struct Live {
    multi: MultiProgress,
    runs: ProgressBar,
}

/// The display of one stage in progress.
struct StageBar {
    bar: Option<ProgressBar>,
    label: String,
    /// Plain output: the last tenth of the stage reported, so a stage prints about ten lines.
    last_tenth: u64,
}

impl Board {
    /// A board for `total_runs` runs; live bars when stderr is a terminal.
    pub fn new(total_runs: u64) -> Board {
        Board::with_terminal(total_runs, std::io::stderr().is_terminal())
    }

    /// A board that draws live bars (`terminal`) or writes plain lines.
    pub fn with_terminal(total_runs: u64, terminal: bool) -> Board {
        let live = terminal.then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let runs = multi.add(ProgressBar::new(total_runs));
            runs.set_style(
                ProgressStyle::with_template(
                    "runs {pos}/{len} [{bar:30}] {msg} · elapsed {elapsed} · eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            runs.enable_steady_tick(Duration::from_millis(500));
            Live { multi, runs }
        });
        let board = Board {
            live,
            counts: Mutex::new(Counts::default()),
            stages: Mutex::new(HashMap::new()),
        };
        board.refresh();
        board
    }

    /// Prints a line above the bars (or to stderr).
    fn line(&self, text: &str) {
        match &self.live {
            Some(l) => {
                let _ = l.multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    fn stages(&self) -> std::sync::MutexGuard<'_, HashMap<String, StageBar>> {
        self.stages.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A bar for a stage that starts now, labelled e.g. `pretrain.A`.
    fn stage_started(&self, key: &str, label: &str) {
        let bar = self.live.as_ref().map(|l| {
            let b = l.multi.add(ProgressBar::new(1));
            b.set_style(
                ProgressStyle::with_template("{prefix:>28} [{bar:30}] {pos}/{len} {msg} eta {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            b.set_prefix(label.to_string());
            b
        });
        let stage = StageBar {
            bar,
            label: label.to_string(),
            last_tenth: 0,
        };
        if let Some(old) = self.stages().insert(key.to_string(), stage) {
            self.clear(&old);
        }
    }

    /// Training progress: optimizer step of total, last loss.
    fn stage_step(&self, key: &str, step: u64, total: u64, loss: f64) {
        let mut stages = self.stages();
        let Some(s) = stages.get_mut(key) else {
            return;
        };
        match &s.bar {
            Some(b) => {
                b.set_length(total);
                b.set_position(step);
                b.set_message(format!("loss {loss:.4}"));
            }
            None => {
                let tenth = step * 10 / total.max(1);
                if tenth > s.last_tenth {
                    s.last_tenth = tenth;
                    eprintln!("{}: step {step}/{total} loss {loss:.4}", s.label);
                }
            }
        }
    }

    /// The stage ended (`done`, `failed`): its bar goes and `label: msg` is printed.
    fn stage_ended(&self, key: &str, msg: &str) {
        let Some(s) = self.stages().remove(key) else {
            return;
        };
        self.clear(&s);
        self.line(&format!("{}: {msg}", s.label));
    }

    fn clear(&self, s: &StageBar) {
        if let (Some(b), Some(l)) = (&s.bar, &self.live) {
            b.finish_and_clear();
            l.multi.remove(b);
        }
    }

    /// A run finished: its error is printed at once, then the one-line outcome
    /// (`[2/6] run c002-s1 ok (1.3s)`).
    fn run_finished(&self, run: &RunFinished) {
        if let Some(e) = run.error {
            self.line(&format!("run {} failed: {e}", run.run_id));
        }
        self.update(|c| {
            c.done += 1;
            c.failed += u64::from(run.error.is_some());
        });
        let status = if run.error.is_some() { "failed" } else { "ok" };
        self.line(&format!(
            "[{}/{}] run {} {status} ({:.1}s)",
            run.position + 1,
            run.runs,
            run.run_id,
            run.seconds
        ));
    }

    /// Removes the bars (the counts were printed as lines along the way).
    fn finish(&self) {
        for (_, s) in self.stages().drain() {
            self.clear(&s);
        }
        if let Some(l) = &self.live {
            l.runs.finish_and_clear();
            let _ = l.multi.clear();
        }
    }

    /// `(done, failed, cached)` so far.
    pub fn counts(&self) -> (u64, u64, u64) {
        let c = *self.counts.lock().unwrap_or_else(|e| e.into_inner());
        (c.done, c.failed, c.cached)
    }

    fn update(&self, f: impl FnOnce(&mut Counts)) {
        f(&mut self.counts.lock().unwrap_or_else(|e| e.into_inner()));
        self.refresh();
    }

    fn refresh(&self) {
        if let Some(l) = &self.live {
            let (done, failed, cached) = self.counts();
            l.runs.set_position(done);
            l.runs
                .set_message(format!("{cached} stages cached · {failed} failed"));
        }
    }
}

impl Reporter for Board {
    fn event(&self, event: &Event<'_>) -> anyhow::Result<()> {
        match event {
            Event::StageStarted { key, label } => self.stage_started(key, label),
            Event::StageProgress {
                key,
                step,
                total,
                loss,
            } => self.stage_step(key, *step, *total, *loss),
            Event::StageFinished { key } => self.stage_ended(key, "done"),
            // The error itself is printed with the runs it fails.
            Event::StageFailed { key, error: _ } => self.stage_ended(key, "failed"),
            Event::StageReused { key: _ } => self.update(|c| c.cached += 1),
            Event::StageDamaged { key, damage, moved } => self.line(&format!(
                "stage {key} is damaged, not used: {damage}; {moved}; computing it again"
            )),
            Event::RunFinished(run) => self.run_finished(run),
            Event::WorkersStopped => self.finish(),
            Event::GridFinished(g) => {
                let GridFinished {
                    experiment,
                    ok,
                    failed,
                    skipped,
                    executed_stages,
                    cached_stages,
                    results,
                } = g;
                eprintln!(
                    "{experiment}: {ok} ok, {failed} failed, {skipped} already complete; stages: {executed_stages} run, {cached_stages} reused. Results in {}",
                    results.display()
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn counts_runs_failures_and_cached_stages() {
        for terminal in [false, true] {
            let board = Board::with_terminal(3, terminal);
            let (metrics, row) = (BTreeMap::new(), BTreeMap::new());
            let run = |run_id, position, error| {
                Event::RunFinished(RunFinished {
                    run_id,
                    position,
                    runs: 3,
                    error,
                    seconds: 0.1,
                    metrics: &metrics,
                    row: &row,
                })
            };
            let events = [
                Event::StageReused { key: "k0" },
                Event::StageStarted {
                    key: "k1",
                    label: "downstream.C",
                },
                Event::StageProgress {
                    key: "k1",
                    step: 1,
                    total: 4,
                    loss: 0.5,
                },
                Event::StageFinished { key: "k1" },
                run("c001-s1", 0, None),
                run("c002-s1", 1, Some("downstream.C: non-finite loss")),
            ];
            for e in &events {
                board.event(e).unwrap();
            }
            assert_eq!(board.counts(), (2, 1, 1));
            assert!(board.stages().is_empty());
            board.event(&Event::WorkersStopped).unwrap();
        }
    }
}
