//! Extractive QA in a downstream stage: a span dataset cut into window rows, batched with the
//! span head's inputs (`span_mask`, interleaved start/end `labels`), and scored from the
//! evaluation graph's logits by decoding each example's best span over its windows and comparing
//! it with the gold answers (SQuAD's exact match and F1).

use crate::config::{DownstreamConfig, LongInputs};
use crate::data::{
    self, Decoded, SpanDataset, SpanExample, SpanItem, SpanRow, Tok, padding_span_row,
};
use crate::graph::Tensor;
use crate::metrics::squad_scores;
use crate::model::Input;
use crate::train::StepInputs;
use anyhow::Result;

/// One split of a span task: its examples, their tokenization, and the window rows (each with
/// the index of its example), in example order.
pub struct SpanSplit {
    pub examples: Vec<SpanExample>,
    pub items: Vec<SpanItem>,
    pub rows: Vec<(usize, SpanRow)>,
}

/// The three splits of a span task.
pub struct SpanData {
    pub train: SpanSplit,
    pub dev: SpanSplit,
    pub test: SpanSplit,
}

/// How windows are cut: by `long`, `stride` and the row length.
#[derive(Debug, Clone, Copy)]
pub struct Windowing {
    pub seq_len: usize,
    pub stride: Option<usize>,
    pub all_windows: bool,
}

impl Windowing {
    pub fn of(d: &DownstreamConfig, seq_len: usize) -> Windowing {
        Windowing {
            seq_len,
            stride: d.stride,
            all_windows: d.long_inputs() == LongInputs::Windows,
        }
    }
}

/// Tokenizes and windows a list of examples.
pub fn span_split(examples: Vec<SpanExample>, tok: &Tok, w: Windowing) -> Result<SpanSplit> {
    let mut items = Vec::with_capacity(examples.len());
    let mut rows = Vec::new();
    for (i, e) in examples.iter().enumerate() {
        let item = data::span_item(e, tok)?;
        for r in data::span_rows(&item, w.seq_len, w.stride, w.all_windows)? {
            rows.push((i, r));
        }
        items.push(item);
    }
    Ok(SpanSplit {
        examples,
        items,
        rows,
    })
}

/// The three splits, tokenized and windowed.
pub fn span_data(ds: SpanDataset, tok: &Tok, w: Windowing) -> Result<SpanData> {
    Ok(SpanData {
        train: span_split(ds.train, tok, w)?,
        dev: span_split(ds.dev, tok, w)?,
        test: span_split(ds.test, tok, w)?,
    })
}

/// Fixed-shape batches of a split's rows (the last filled with padding rows), in row order.
pub fn span_batches(
    split: &SpanSplit,
    batch: usize,
    seq: usize,
    segments: bool,
) -> Vec<StepInputs> {
    let pad = padding_span_row(seq);
    let rows: Vec<&SpanRow> = split.rows.iter().map(|(_, r)| r).collect();
    rows.chunks(batch)
        .map(|chunk| {
            let mut all: Vec<&SpanRow> = chunk.to_vec();
            all.resize(batch, &pad);
            let cat = |f: &dyn Fn(&SpanRow) -> &Vec<i64>| -> Vec<i64> {
                all.iter().flat_map(|r| f(r).iter().copied()).collect()
            };
            let mut feeds = StepInputs::from_iter([
                (
                    Input::InputIds,
                    Tensor::i64(vec![batch, seq], cat(&|r| &r.row.input_ids)),
                ),
                (
                    Input::AttentionMask,
                    Tensor::i64(vec![batch, seq], cat(&|r| &r.row.attention_mask)),
                ),
            ]);
            if segments {
                feeds.set(
                    Input::TokenTypeIds,
                    Tensor::i64(vec![batch, seq], cat(&|r| &r.row.token_type_ids)),
                );
            }
            feeds.set(
                Input::SpanMask,
                Tensor::i64(vec![batch, seq], cat(&|r| &r.span_mask)),
            );
            let labels = all.iter().flat_map(|r| [r.target.0, r.target.1]).collect();
            feeds.set(Input::Labels, Tensor::i64(vec![batch * 2], labels));
            feeds
        })
        .collect()
}

/// The start and end logits of every row, from the evaluation graph's `[B, 2, T]` logits of
/// each batch in order.
fn row_logits(logits: &[Tensor]) -> Vec<(&[f32], &[f32])> {
    let mut out = Vec::new();
    for t in logits {
        let seq = t.shape.last().copied().unwrap_or(1);
        for row in t.as_f32().unwrap_or(&[]).chunks(2 * seq) {
            out.push(row.split_at(seq));
        }
    }
    out
}

/// Each example's best span over its windows (none for an example without context tokens).
pub fn decode(split: &SpanSplit, logits: &[Tensor], max_tokens: usize) -> Vec<Option<Decoded>> {
    let mut best: Vec<Option<Decoded>> = vec![None; split.examples.len()];
    for ((i, row), (s, e)) in split.rows.iter().zip(row_logits(logits)) {
        let d = data::best_in_window(s, e, row, max_tokens);
        best[*i] = data::best_over_windows([best[*i], d]);
    }
    best
}

/// Each example's predicted answer text and score (empty and −∞ when nothing was decoded).
pub fn predictions(split: &SpanSplit, logits: &[Tensor], max_tokens: usize) -> Vec<(String, f32)> {
    decode(split, logits, max_tokens)
        .into_iter()
        .enumerate()
        .map(|(i, d)| match d {
            Some(d) => (
                data::answer_text(&split.examples[i].context, &split.items[i].offsets, &d),
                d.score,
            ),
            None => (String::new(), f32::NEG_INFINITY),
        })
        .collect()
}

/// Exact match and F1 of a split's predictions against every gold answer.
pub fn exact_match_f1(split: &SpanSplit, logits: &[Tensor], max_tokens: usize) -> (f64, f64) {
    let pairs: Vec<(String, Vec<String>)> = predictions(split, logits, max_tokens)
        .into_iter()
        .zip(&split.examples)
        .map(|((p, _), e)| (p, e.answers.iter().map(|a| a.text.clone()).collect()))
        .collect();
    squad_scores(&pairs)
}
