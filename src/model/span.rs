//! The extractive question-answering head: a start and an end logit per token, non-context
//! tokens masked out, and the mean of the start and end cross-entropies.
//!
//! Batch inputs besides the encoder's: `span_mask [B, T]` (i64, 1 where an answer may start or
//! end: the context tokens of the row and its `[CLS]`, which is where a window without the whole
//! answer points), and `labels [2·B]` (the gold start and end position of each row, interleaved:
//! start₀, end₀, start₁, …; `IGNORE_INDEX` for padding rows). The logits come out as
//! `[B, 2, T]` (start logits, then end logits, per row), already masked.

use super::inputs::Input;
use super::params::ModelBuilder;
use super::tasks::IGNORE_INDEX;
use crate::graph::{self, DType, ValueId};

/// What a masked position's logit is lowered by: far below any real logit, yet finite, so the
/// softmax stays defined and float64 finite differences stay exact.
const MASKED: f64 = 1e4;

/// Start/end logits `[B, 2, T]` and the loss from token features `[B·T, D]`.
pub(crate) fn span_head(
    m: &mut ModelBuilder,
    feats: ValueId,
    batch: usize,
    seq: usize,
    dropout: f64,
) -> graph::Result<(ValueId, ValueId)> {
    let dtype = m.g.dtype(feats);
    let mask =
        m.g.input(Input::SpanMask.name(), DType::I64, &[batch, seq])?;
    let labels = m.g.input(Input::Labels.name(), DType::I64, &[batch * 2])?;
    let logits = m.scoped("head", |m| -> graph::Result<ValueId> {
        let f = m.dropout(feats, dropout)?;
        m.dense("span", f, 2)
    })?;
    let logits = m.g.scoped("span", |g| -> graph::Result<ValueId> {
        let l = g.reshape(logits, &[batch, seq, 2])?;
        let l = g.transpose(l, &[0, 2, 1])?;
        // (mask − 1) · MASKED: 0 where allowed, −MASKED elsewhere.
        let mf = g.cast(mask, dtype)?;
        let mf = g.reshape(mf, &[batch, 1, seq])?;
        let penalty = g.mul_scalar(mf, MASKED)?;
        let penalty = g.add_scalar(penalty, -MASKED)?;
        g.add(l, penalty)
    })?;
    // One cross-entropy over 2·B rows of T positions: the mean of the start and end losses.
    let rows = m.g.reshape(logits, &[batch * 2, seq])?;
    let loss = m.g.softmax_cross_entropy(rows, labels, IGNORE_INDEX)?;
    Ok((loss, logits))
}
