//! The work queue of a grid: which stage is ready next, and which runs are finished. Workers take
//! the first stage, in the plan's order of the runs needing it, whose parents have all succeeded,
//! so a stage shared by many runs runs once and one worker keeps the run-by-run order.

use super::super::plan::{Plan, RunPlan, StageKind, StagePlan};
use super::super::stage::Metrics;
use std::collections::HashMap;
use std::time::Instant;

/// What became of a stage: its metrics, or the error that failed it (with the stage's label).
pub(super) type StageOutcome = std::result::Result<Metrics, String>;

enum StageState {
    Waiting,
    Running,
    Done(StageOutcome),
}

/// The work queue of a grid: stage states, and the runs still to finish in plan order. Workers
/// take the first stage, in plan order of the runs needing it, whose parents have all succeeded;
/// so one worker executes stages exactly in the order a plain run-by-run loop would.
pub(super) struct Queue<'p> {
    states: HashMap<&'p str, StageState>,
    /// Positions in `plan.runs` of the runs still to finish.
    pub(super) pending: Vec<usize>,
    /// When each run's first stage was taken.
    started: HashMap<usize, Instant>,
    pub(super) running: usize,
    /// An error that stops the grid (writing runs.csv failed, a broken plan).
    pub(super) fatal: Option<anyhow::Error>,
}

/// A run whose stages are all done, or one of which failed.
pub(super) struct FinishedRun {
    pub(super) pos: usize,
    pub(super) metrics: Metrics,
    pub(super) error: Option<String>,
    pub(super) seconds: f64,
}

impl<'p> Queue<'p> {
    pub(super) fn new(plan: &'p Plan, pending: Vec<usize>) -> Queue<'p> {
        let states = pending
            .iter()
            .flat_map(|&i| plan.runs[i].stages.iter())
            .map(|k| (k.as_str(), StageState::Waiting))
            .collect();
        Queue {
            states,
            pending,
            started: HashMap::new(),
            running: 0,
            fatal: None,
        }
    }

    fn succeeded(&self, key: &str) -> bool {
        matches!(self.states.get(key), Some(StageState::Done(Ok(_))))
    }

    /// The next stage to execute, marked running.
    pub(super) fn take(&mut self, plan: &'p Plan) -> Option<&'p str> {
        let mut found = None;
        'runs: for &i in &self.pending {
            for key in &plan.runs[i].stages {
                match self.states.get(key.as_str()) {
                    Some(StageState::Waiting) => {
                        let ready = plan
                            .stage(key)
                            .is_some_and(|s| s.parents.iter().all(|p| self.succeeded(p)));
                        if ready {
                            found = Some((i, key.as_str()));
                            break 'runs;
                        }
                    }
                    Some(StageState::Done(Err(_))) => continue 'runs,
                    Some(StageState::Running | StageState::Done(Ok(_))) | None => {}
                }
            }
        }
        let (i, key) = found?;
        self.started.entry(i).or_insert_with(Instant::now);
        self.states.insert(key, StageState::Running);
        self.running += 1;
        Some(key)
    }

    /// Records a stage's outcome; returns the runs that are finished now, removed from `pending`.
    pub(super) fn done(
        &mut self,
        plan: &'p Plan,
        key: &'p str,
        outcome: StageOutcome,
    ) -> Vec<FinishedRun> {
        self.states.insert(key, StageState::Done(outcome));
        self.running -= 1;
        let mut finished = Vec::new();
        let mut still = Vec::new();
        for &i in &self.pending {
            match self.outcome_of(plan, &plan.runs[i]) {
                Some((metrics, error)) => {
                    let seconds = self
                        .started
                        .get(&i)
                        .map_or(0.0, |t| t.elapsed().as_secs_f64());
                    finished.push(FinishedRun {
                        pos: i,
                        metrics,
                        error,
                        seconds,
                    });
                }
                None => still.push(i),
            }
        }
        self.pending = still;
        finished
    }

    /// A run's metrics and error once its stages are all done or one (the first, in the run's
    /// order) failed; `None` while it waits. With several downstream stages in the cell's
    /// experiment, their metrics (and those of a baseline run beside one of them) are told apart
    /// by the stage's name, and so are those of pretraining stages when the run has several that
    /// are not one chain (`W.pretrain_padding_share` beside `K.pretrain_padding_share`).
    fn outcome_of(&self, plan: &Plan, run: &RunPlan) -> Option<(Metrics, Option<String>)> {
        let mut metrics = Metrics::new();
        // Pretraining stages that are not one chain: none is another's parent.
        let pretrainings: Vec<&StagePlan> = run
            .stages
            .iter()
            .filter_map(|k| plan.stage(k))
            .filter(|s| s.kind == StageKind::Pretrain)
            .collect();
        let apart = pretrainings.len() > 1
            && pretrainings
                .iter()
                .all(|s| pretrainings.iter().all(|o| !o.parents.contains(&s.key)));
        for key in &run.stages {
            let m = match self.states.get(key.as_str()) {
                Some(StageState::Done(Ok(m))) => m,
                Some(StageState::Done(Err(e))) => return Some((metrics, Some(e.clone()))),
                Some(StageState::Waiting | StageState::Running) | None => return None,
            };
            let stage = plan.stage(key)?;
            let several = plan
                .cell(&run.cell_id)
                .is_some_and(|c| c.experiment.downstream.len() > 1);
            let named = match stage.kind {
                StageKind::Downstream | StageKind::Baseline => several,
                StageKind::Pretrain => several && apart,
                StageKind::Tokenizer | StageKind::Vectors => false,
            };
            let prefix = if named {
                format!("{}.", stage.name)
            } else {
                String::new()
            };
            for (k, v) in m {
                let shared = k.starts_with("data.")
                    || k.starts_with("tokenizer.")
                    || (k.starts_with("pretrain_") && stage.kind != StageKind::Pretrain);
                let key = if shared {
                    k.clone()
                } else {
                    format!("{prefix}{k}")
                };
                metrics.insert(key, *v);
            }
        }
        Some((metrics, None))
    }
}
