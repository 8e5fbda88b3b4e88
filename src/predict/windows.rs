//! `predict` of a run that read long inputs in windows (`long = "windows"`): each input
//! is cut into the windows the stage cut (its `seq_len` and `stride`; for `classify` and `pair`
//! at most its `batch_size` windows, as one batch held them).
//!
//! - `classify` and `pair`: the windows' pooled features are pooled per input by the stage's
//!   `window_pool` and the trained classifier (`head.classifier`) is applied to them here, as
//!   the stage's graph did; the exported model alone reads one window.
//! - `tag`: each word's tag is read from the window that reads its first token best.

use super::model::RowModel;
use super::prediction::{Prediction, argmax};
use crate::config::{DownstreamConfig, WindowPool};
use crate::data::{self, Item, Row, Target, Tok, encode_pair, encode_single};
use crate::interop::{LOGITS, POOLED};
use crate::model;
use crate::runtime::ParamStore;
use crate::task::WindowRule;
use anyhow::{Context, Result};

/// Predicts one input read in windows.
pub(crate) fn predict(
    model: &mut RowModel,
    tok: &Tok,
    params: &ParamStore,
    d: &DownstreamConfig,
    text: &str,
    pair: Option<&str>,
    chunk: usize,
) -> Result<Prediction> {
    let seq = model.seq;
    let stride = data::stride_or_default(d.stride, seq);
    match d.task.windows() {
        WindowRule::PerRow => {
            let words: Vec<&str> = text.split_whitespace().collect();
            let (ids, word_of) = tok.encode_words(&words)?;
            let size = data::window_room(seq).max(1);
            let ws = data::windows(ids.len(), size, stride);
            let rows: Vec<Row> = ws
                .iter()
                .map(|w| encode_single(&ids[w.clone()], seq))
                .collect::<std::result::Result<_, _>>()?;
            let mut logits: Vec<f32> = Vec::new();
            let mut classes = 0;
            for part in rows.chunks(chunk.max(1)) {
                let o = model.run(part.iter())?;
                let l = o.f32(LOGITS)?;
                classes = *l.shape.last().unwrap_or(&1);
                logits.extend_from_slice(l.data);
            }
            let mut tags = Vec::new();
            for pos in data::word_starts(&word_of) {
                let i = data::best_window(&ws, pos).context("a token outside every window")?;
                let at = (i * seq + 1 + pos - ws[i].start) * classes;
                tags.push(argmax(&logits[at..at + classes]));
            }
            Ok(Prediction::Tags(tags))
        }
        WindowRule::Pooled => {
            let item = Item {
                a: tok.encode(text)?,
                b: pair.map(|p| tok.encode(p)).transpose()?,
                target: Target::None,
            };
            let w = data::window_items(&[item], seq, stride, Some(d.batch_size));
            let rows: Vec<Row> = w
                .items
                .iter()
                .map(|it| match &it.b {
                    None => encode_single(&it.a, seq),
                    Some(b) => encode_pair(&it.a, b, seq),
                })
                .collect::<std::result::Result<_, _>>()?;
            let o = model.run(rows.iter())?;
            let pooled = o.f32(POOLED)?;
            let dim = *pooled.shape.last().unwrap_or(&1);
            let feats = pool(pooled.data, dim, d.window_pool);
            let logits = crate::model::host_classifier(params, &feats)?;
            let probs = softmax(&logits);
            Ok(Prediction::Label { logits, probs })
        }
        WindowRule::Own => anyhow::bail!("{} runs are predicted by predict::span", d.task.name()),
    }
}

/// The windows' features `[n, dim]` pooled into one vector, as the stage pools them.
fn pool(features: &[f32], dim: usize, how: WindowPool) -> Vec<f32> {
    let rows: Vec<&[f32]> = features.chunks(dim.max(1)).collect();
    model::pool_rows(&rows, dim, how.into())
}

/// `features @ head.classifier.weight + head.classifier.bias`.
fn softmax(logits: &[f32]) -> Vec<f32> {
    let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = logits.iter().map(|l| (l - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.iter().map(|x| x / s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_pool_by_mean_or_maximum() {
        let f = [1.0, -2.0, 3.0, 4.0];
        assert_eq!(pool(&f, 2, WindowPool::Mean), vec![2.0, 1.0]);
        assert_eq!(pool(&f, 2, WindowPool::Max), vec![3.0, 4.0]);
        let p = softmax(&[0.0, 0.0]);
        assert!((p[0] - 0.5).abs() < 1e-6);
    }
}
