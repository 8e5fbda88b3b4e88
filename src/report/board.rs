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
//! ```
//!
//! The board is shared by the worker threads of `--jobs N`; indicatif's bars are thread safe and
//! the counters sit behind a mutex.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
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
}

struct Live {
    multi: MultiProgress,
    runs: ProgressBar,
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
        };
        board.refresh();
        board
    }

    /// Prints a line above the bars (or to stderr).
    pub fn line(&self, text: &str) {
        match &self.live {
            Some(l) => {
                let _ = l.multi.println(text);
            }
            None => eprintln!("{text}"),
        }
    }

    /// A bar for a stage that starts now, labelled e.g. `pretrain.A`.
    pub fn stage(&self, label: &str) -> StageBar<'_> {
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
        StageBar {
            board: self,
            bar,
            label: label.to_string(),
            last_tenth: AtomicU64::new(0),
            finished: false.into(),
        }
    }

    /// A stage's outputs were reused from the cache.
    pub fn stage_cached(&self) {
        self.update(|c| c.cached += 1);
    }

    /// A run finished: `failure` is its error when it failed (printed at once), `line` the
    /// one-line outcome (`[2/6] run c002-s1 ok (1.3s)`).
    pub fn run_finished(&self, run_id: &str, failure: Option<&str>, line: &str) {
        if let Some(e) = failure {
            self.line(&format!("run {run_id} failed: {e}"));
        }
        self.update(|c| {
            c.done += 1;
            c.failed += u64::from(failure.is_some());
        });
        self.line(line);
    }

    /// Removes the bars (the counts were printed as lines along the way).
    pub fn finish(&self) {
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

/// The display of one stage in progress; cleared when finished or dropped.
pub struct StageBar<'b> {
    board: &'b Board,
    bar: Option<ProgressBar>,
    label: String,
    /// Plain output: the last tenth of the stage reported, so a stage prints about ten lines.
    last_tenth: AtomicU64,
    finished: std::sync::atomic::AtomicBool,
}

impl StageBar<'_> {
    /// Training progress: optimizer step of total, last loss.
    pub fn step(&self, step: u64, total: u64, loss: f64) {
        match &self.bar {
            Some(b) => {
                b.set_length(total);
                b.set_position(step);
                b.set_message(format!("loss {loss:.4}"));
            }
            None => {
                let tenth = step * 10 / total.max(1);
                if tenth > self.last_tenth.load(Ordering::Relaxed) {
                    self.last_tenth.store(tenth, Ordering::Relaxed);
                    eprintln!("{}: step {step}/{total} loss {loss:.4}", self.label);
                }
            }
        }
    }

    /// The stage ended (`done`, `failed`): its bar goes and `label: msg` is printed.
    pub fn finish(&self, msg: &str) {
        self.clear();
        self.board.line(&format!("{}: {msg}", self.label));
    }

    fn clear(&self) {
        if self.finished.swap(true, Ordering::Relaxed) {
            return;
        }
        if let (Some(b), Some(l)) = (&self.bar, &self.board.live) {
            b.finish_and_clear();
            l.multi.remove(b);
        }
    }
}

impl Drop for StageBar<'_> {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_runs_failures_and_cached_stages() {
        for terminal in [false, true] {
            let board = Board::with_terminal(3, terminal);
            board.stage_cached();
            let bar = board.stage("downstream.C");
            bar.step(1, 4, 0.5);
            bar.finish("done");
            board.run_finished("c001-s1", None, "[1/3] run c001-s1 ok (0.1s)");
            board.run_finished(
                "c002-s1",
                Some("downstream.C: non-finite loss"),
                "[2/3] run c002-s1 failed (0.1s)",
            );
            assert_eq!(board.counts(), (2, 1, 1));
            board.finish();
        }
    }
}
