//! The family's own vocabulary: what a task predicts ([`Target`]), how it reads long inputs
//! ([`WindowRule`]) and which metrics it reports ([`TaskMetrics`]). Code outside the family
//! matches these exhaustively instead of comparing tasks.

use crate::metrics::Metric;

/// What a task predicts for an example, which decides how its data is read, itemized and
/// scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One label per example (`labels [B]`), read from a labelled table; scored by accuracy
    /// and macro-F1.
    Class,
    /// One tag per word (`labels [B·T]`), read from a labelled table whose label column holds
    /// a tag per word; scored per token and by conlleval spans.
    Tags,
    /// An answer span in a context, read from SQuAD JSON or a span table and windowed by the
    /// span reader; scored by SQuAD's exact match and token F1.
    Answer,
}

/// How an example longer than `seq_len` is read with `long = "windows"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowRule {
    /// The windows' pooled features are pooled again into their example before the head
    /// (`window_mask`; a batch holds whole examples).
    Pooled,
    /// Each window is its own row; each token is read from the window that holds it furthest
    /// from an edge.
    PerRow,
    /// The task windows its inputs itself (the span reader), whatever `long` says.
    Own,
}

/// The metrics a task reports, from the metric catalogue (runs.csv writes them as
/// `<split>_<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskMetrics {
    /// The dev metric that picks the best epoch (`dev_<name>` in runs.csv).
    pub dev: Metric,
    /// What the test pass reports (`test_<name>`).
    pub test: &'static [Metric],
}
