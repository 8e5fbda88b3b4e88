//! The family's methods on [`DownstreamTask`]: each matches every task and delegates to the
//! task's file, so a new variant does not compile until every concern below has its answer.

use super::{Target, TaskMetrics, WindowRule, classify, pair, span, tag};
use crate::baseline::BowTask;
use crate::config::{DownstreamTask, LongInputs};
use crate::data::{Dataset, Example, Item, Tok};
use crate::model::{Pooling, TaskHead, WindowPool};
use anyhow::Result;

impl DownstreamTask {
    /// Every task, in the order the docs list them.
    pub const ALL: [DownstreamTask; 4] = [
        DownstreamTask::Classify,
        DownstreamTask::Pair,
        DownstreamTask::Tag,
        DownstreamTask::Span,
    ];

    /// The task's name in experiment files, exported models and messages.
    pub fn name(self) -> &'static str {
        match self {
            DownstreamTask::Classify => classify::NAME,
            DownstreamTask::Pair => pair::NAME,
            DownstreamTask::Tag => tag::NAME,
            DownstreamTask::Span => span::NAME,
        }
    }

    /// What the task predicts for an example.
    pub fn target(self) -> Target {
        match self {
            DownstreamTask::Classify => classify::TARGET,
            DownstreamTask::Pair => pair::TARGET,
            DownstreamTask::Tag => tag::TARGET,
            DownstreamTask::Span => span::TARGET,
        }
    }

    /// Whether the task reads two texts per example (the dataset's `text_pair` column).
    pub fn needs_text_pair(self) -> bool {
        match self {
            DownstreamTask::Classify => classify::NEEDS_TEXT_PAIR,
            DownstreamTask::Pair => pair::NEEDS_TEXT_PAIR,
            DownstreamTask::Tag => tag::NEEDS_TEXT_PAIR,
            DownstreamTask::Span => span::NEEDS_TEXT_PAIR,
        }
    }

    /// `long` when the stage leaves it unset.
    pub fn default_long(self) -> LongInputs {
        match self {
            DownstreamTask::Classify => classify::DEFAULT_LONG,
            DownstreamTask::Pair => pair::DEFAULT_LONG,
            DownstreamTask::Tag => tag::DEFAULT_LONG,
            DownstreamTask::Span => span::DEFAULT_LONG,
        }
    }

    /// How the task reads long inputs in windows.
    pub fn windows(self) -> WindowRule {
        match self {
            DownstreamTask::Classify => classify::WINDOWS,
            DownstreamTask::Pair => pair::WINDOWS,
            DownstreamTask::Tag => tag::WINDOWS,
            DownstreamTask::Span => span::WINDOWS,
        }
    }

    /// Whether the head reads one pooled vector per sequence (`pooling` is read).
    pub fn pools_sequence(self) -> bool {
        match self.target() {
            Target::Class => true,
            Target::Tags | Target::Answer => false,
        }
    }

    /// Whether windows of a long example pool into one prediction (`window_pool` is read).
    pub fn pools_windows(self) -> bool {
        match self.windows() {
            WindowRule::Pooled => true,
            WindowRule::PerRow | WindowRule::Own => false,
        }
    }

    /// Whether the task windows its inputs itself, whatever `long` says.
    pub fn windows_itself(self) -> bool {
        match self.windows() {
            WindowRule::Own => true,
            WindowRule::Pooled | WindowRule::PerRow => false,
        }
    }

    /// The metrics the task reports.
    pub fn metrics(self) -> TaskMetrics {
        match self {
            DownstreamTask::Classify => classify::METRICS,
            DownstreamTask::Pair => pair::METRICS,
            DownstreamTask::Tag => tag::METRICS,
            DownstreamTask::Span => span::METRICS,
        }
    }

    /// Whether `baseline = true` has a bag-of-words cell for the task.
    pub fn has_baseline(self) -> bool {
        self.baseline().is_some()
    }

    /// The bag-of-words baseline's mode for the task, if it has one.
    pub fn baseline(self) -> Option<BowTask> {
        match self {
            DownstreamTask::Classify => classify::BASELINE,
            DownstreamTask::Pair => pair::BASELINE,
            DownstreamTask::Tag => tag::BASELINE,
            DownstreamTask::Span => span::BASELINE,
        }
    }

    /// The names of the head's outputs when they do not come from the dataset (a span head's
    /// start and end).
    pub fn fixed_outputs(self) -> Option<&'static [&'static str]> {
        match self {
            DownstreamTask::Classify => classify::FIXED_OUTPUTS,
            DownstreamTask::Pair => pair::FIXED_OUTPUTS,
            DownstreamTask::Tag => tag::FIXED_OUTPUTS,
            DownstreamTask::Span => span::FIXED_OUTPUTS,
        }
    }

    /// The label set of a dataset for the task, unchecked (its tags for tagging).
    pub fn label_set(self, ds: &Dataset) -> Vec<String> {
        match self {
            DownstreamTask::Classify => classify::label_set(ds),
            DownstreamTask::Pair => pair::label_set(ds),
            DownstreamTask::Tag => tag::label_set(ds),
            DownstreamTask::Span => span::label_set(ds),
        }
    }

    /// The label names of a dataset for the task, in the order of the head's outputs, after
    /// checking that the dataset fits the task.
    pub fn label_names(self, ds: &Dataset) -> Result<Vec<String>> {
        match self {
            DownstreamTask::Classify => classify::label_names(ds),
            DownstreamTask::Pair => pair::label_names(ds),
            DownstreamTask::Tag => tag::label_names(ds),
            DownstreamTask::Span => span::label_names(ds),
        }
    }

    /// Examples tokenized into items with the task's targets.
    pub fn items(self, xs: &[Example], tok: &Tok, labels: &[String]) -> Result<Vec<Item>> {
        match self {
            DownstreamTask::Classify => classify::items(xs, tok, labels),
            DownstreamTask::Pair => pair::items(xs, tok, labels),
            DownstreamTask::Tag => tag::items(xs, tok, labels),
            DownstreamTask::Span => span::items(xs, tok, labels),
        }
    }

    /// The head the task trains: the one builder behind training, export, predict and
    /// quantize. `classes` counts the head's outputs; `pooling` and `windows` are read by
    /// sequence tasks only.
    pub fn head(self, classes: usize, pooling: Pooling, windows: Option<WindowPool>) -> TaskHead {
        match self {
            DownstreamTask::Classify => classify::head(classes, pooling, windows),
            DownstreamTask::Pair => pair::head(classes, pooling, windows),
            DownstreamTask::Tag => tag::head(classes),
            DownstreamTask::Span => span::head(),
        }
    }
}
