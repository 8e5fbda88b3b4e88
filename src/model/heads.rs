//! What sits on the encoder: a pretraining objective's output layer ([`PretrainHead`]) or a
//! downstream task's ([`TaskHead`]), kept apart so that code which only ever sees one kind (a
//! pretraining stage's batches, feature extraction, export) matches that kind alone. The task
//! family (`crate::task`) says which [`TaskHead`] each downstream task trains.

use super::windows::WindowPool;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pooling {
    /// The first position's features ([CLS]).
    Cls,
    /// Mean over the real (unpadded) positions.
    Mean,
    /// The last real position's features (rows are padded on the right).
    Last,
}

/// The output layer and loss of a pretraining objective.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PretrainHead {
    /// Masked LM; the output layer is tied to the word embeddings. Batch inputs `mlm_positions`
    /// `[M]` (flat indices into B·T) and `mlm_labels` `[M]`: logits are computed only there.
    Mlm { n_masked: usize },
    /// Causal LM: `labels [B·T]` holds the next token (or IGNORE_INDEX) at every position.
    Clm,
    /// One label per sequence (`labels [B]`) from the `[CLS]` position's features: NSP, SOP and
    /// supervised (`classify`) pretraining. The same parameters as a [`TaskHead::Classify`]
    /// with `[CLS]` pooling.
    Sequence { classes: usize },
}

/// The output layer and loss of a downstream task.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TaskHead {
    /// One label per sequence (`labels [B]`), from pooled features (classify, pair). With
    /// `windows`, the B rows are windows of long examples and the input `window_mask` pools
    /// them per example before the head (see [`super::windows`]).
    Classify {
        classes: usize,
        pooling: Pooling,
        windows: Option<WindowPool>,
    },
    /// One label per token (`labels [B·T]`).
    Tag { classes: usize },
    /// Extractive QA: start and end logits over the tokens (see [`super::span`]).
    Span,
}

impl TaskHead {
    /// The head's outputs per prediction: its classes, or a span head's start and end.
    pub fn outputs(self) -> usize {
        match self {
            TaskHead::Classify { classes, .. } | TaskHead::Tag { classes } => classes,
            TaskHead::Span => 2,
        }
    }

    /// How the encoder's features are pooled before the head: per sequence, or not at all (the
    /// head reads every token).
    pub fn pooling(self) -> Option<Pooling> {
        match self {
            TaskHead::Classify { pooling, .. } => Some(pooling),
            TaskHead::Tag { .. } | TaskHead::Span => None,
        }
    }

    /// The feature rows a batch of `batch` rows of `seq` tokens gives the head: one per sequence
    /// when pooled, one per token otherwise.
    pub fn feature_rows(self, batch: usize, seq: usize) -> usize {
        match self.pooling() {
            Some(_) => batch,
            None => batch * seq,
        }
    }
}

/// Either kind of head, for the graph builders both kinds share.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Head {
    Pretrain(PretrainHead),
    Task(TaskHead),
}

/// The sequence classifier (`head.classifier.{weight,bias}`, [`TaskHead::Classify`]) applied on
/// the host to one pooled feature vector: its logits. The one host-side form of the head, for
/// `predict` of windowed runs (whose windows are pooled on the host) and the int8 check; the
/// graphs build the same head in ONNX.
pub fn host_classifier(
    params: &crate::runtime::ParamStore,
    features: &[f32],
) -> anyhow::Result<Vec<f32>> {
    use anyhow::Context;
    let get = |n: &str| params.get(n).with_context(|| format!("the run has no {n}"));
    let (w, b) = (get("head.classifier.weight")?, get("head.classifier.bias")?);
    let classes = b.len();
    Ok((0..classes)
        .map(|c| {
            b[c] + features
                .iter()
                .enumerate()
                .map(|(i, f)| f * w[i * classes + c])
                .sum::<f32>()
        })
        .collect())
}
