//! What happens while a grid runs, as one stream of events: the runner emits an [`Event`] for
//! every stage started, trained, finished, reused or failed, every run finished (with its
//! runs.csv row) and the end of the grid, and each consumer behind the [`Reporter`] trait reads
//! the events it needs (nextest's reporter: one event stream, several displays). The live board
//! ([`super::board::Board`]) and the writer of runs.csv, curves.csv and the run folders (the
//! runner's `results`) are two such consumers; [`Reporters`] hands every event to several, in
//! order.

use super::table::Row;
use std::collections::BTreeMap;
use std::path::Path;

/// One thing that happened in a running grid.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A stage is computed (not reused). `label` is how displays name it: the stage's label
    /// (`pretrain.A`), with the run for a stage of one run (`downstream.C (c001-s1)`).
    StageStarted { key: &'a str, label: &'a str },
    /// Training progress of a stage being computed: optimizer step `step` of `total`, the last
    /// loss.
    StageProgress {
        key: &'a str,
        step: u64,
        total: u64,
        loss: f64,
    },
    /// A computed stage was committed to the stage store.
    StageFinished { key: &'a str },
    /// A stage being computed failed; `error` is why (the runs that need it fail with it).
    StageFailed { key: &'a str, error: &'a str },
    /// A complete stage was found in the stage store and reused.
    StageReused { key: &'a str },
    /// A stage in the store did not match its manifest and will be computed again: `damage` is
    /// what was wrong, `moved` what became of the folder (moved aside to ..., or deleted).
    StageDamaged {
        key: &'a str,
        damage: &'a str,
        moved: &'a str,
    },
    /// A run's stages are all done, or one of them failed.
    RunFinished(RunFinished<'a>),
    /// The workers have stopped: every run finished, or an error stopped the grid. The results
    /// are not final yet; [`Event::GridFinished`] follows unless the grid stopped on an error.
    WorkersStopped,
    /// The grid completed and its results are final.
    GridFinished(GridFinished<'a>),
}

/// A finished run.
#[derive(Debug, Clone, Copy)]
pub struct RunFinished<'a> {
    pub run_id: &'a str,
    /// The run's position in the plan (0-based) and the plan's number of runs.
    pub position: usize,
    pub runs: usize,
    /// Why it failed (the first failed stage's label and error); `None` when it succeeded.
    pub error: Option<&'a str>,
    /// From its first stage taken to its last stage done.
    pub seconds: f64,
    /// Every stage's metrics, named as in runs.csv.
    pub metrics: &'a BTreeMap<String, f64>,
    /// Its runs.csv row: settings, metrics and provenance.
    pub row: &'a Row,
}

/// A completed grid: how many runs and stages did what, and where the results are.
#[derive(Debug, Clone, Copy)]
pub struct GridFinished<'a> {
    pub experiment: &'a str,
    pub ok: usize,
    pub failed: usize,
    /// Runs already complete in runs.csv, not run again.
    pub skipped: usize,
    pub executed_stages: usize,
    pub cached_stages: usize,
    /// `<out>/<experiment>/`.
    pub results: &'a Path,
}

/// A consumer of a grid's events. Called from the worker threads, so it takes `&self`. An error
/// stops the grid (as a runs.csv that cannot be written always has).
pub trait Reporter: Sync {
    fn event(&self, event: &Event<'_>) -> anyhow::Result<()>;
}

/// Several consumers behind one stream: each event goes to every consumer in order, and the
/// first error stops it there (a run whose row could not be written is not shown as finished).
#[derive(Default)]
pub struct Reporters<'a> {
    consumers: Vec<Box<dyn Reporter + 'a>>,
}

impl<'a> Reporters<'a> {
    pub fn new() -> Reporters<'a> {
        Reporters::default()
    }

    /// Adds a consumer after those already there.
    pub fn with(mut self, consumer: impl Reporter + 'a) -> Reporters<'a> {
        self.consumers.push(Box::new(consumer));
        self
    }
}

impl Reporter for Reporters<'_> {
    fn event(&self, event: &Event<'_>) -> anyhow::Result<()> {
        for c in &self.consumers {
            c.event(event)?;
        }
        Ok(())
    }
}
