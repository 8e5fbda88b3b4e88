//! Extractive QA inputs: span examples tokenized with character offsets, cut into overlapping
//! windows over the context, and the best answer decoded back from per-window logits.
//!
//! A row is `[CLS] question [SEP] context-window [SEP]`. The question keeps at most half of the
//! row (its end is cut beyond that); windows over the context start `stride` tokens apart, the
//! last one ending at the context's end. Training target of a window: the gold start and end
//! positions in the row when the first gold answer lies wholly inside the window, otherwise
//! `[CLS]` (position 0) for both, BERT's convention for SQuAD: such windows teach the model that
//! the answer is elsewhere. Decoding never returns `[CLS]`: it takes the best span of context
//! tokens over all windows of an example (the highest start + end logit with end ≥ start and
//! end − start < `max_answer_tokens`), so a span crossing a window edge is read from a window
//! that holds it whole.

use crate::data::batch::{IGNORE_INDEX, Row};
use crate::data::error::{DataError, Result};
use crate::data::tokenizer::{CLS_ID, PAD_ID, SEP_ID, Tok};

/// One gold answer: its text and its first character in the context (Unicode characters).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Answer {
    pub text: String,
    pub start: usize,
}

/// A question over a context, with its gold answers (the first is the training target; all are
/// kept for scoring).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SpanExample {
    pub id: String,
    pub question: String,
    pub context: String,
    pub answers: Vec<Answer>,
}

/// A span example tokenized: question and context ids, each context token's character span,
/// and the first answer's first and last context token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanItem {
    pub question: Vec<u32>,
    pub context: Vec<u32>,
    pub offsets: Vec<(usize, usize)>,
    pub gold: Option<(usize, usize)>,
}

/// Context tokens `[start, start + len)` of one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: usize,
    pub len: usize,
}

/// One row of a window: the encoded tokens, where the window's context begins in the row, the
/// positions an answer may take (`span_mask`: `[CLS]` and the context tokens), and the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanRow {
    pub row: Row,
    pub span_mask: Vec<i64>,
    pub window: Window,
    /// The row position of the window's first context token.
    pub context_at: usize,
    /// Gold start and end positions in the row (0, 0 when the answer is not wholly inside).
    pub target: (i64, i64),
}

/// Which context tokens `[first, last]` cover the characters `[start, start + chars)`: the first
/// token ending after `start` and the last token starting before the answer's end.
pub fn char_span_to_tokens(
    offsets: &[(usize, usize)],
    start: usize,
    chars: usize,
) -> Option<(usize, usize)> {
    let end = start + chars;
    let first = offsets.iter().position(|&(_, e)| e > start)?;
    let last = offsets.iter().rposition(|&(s, _)| s < end)?;
    (first <= last).then_some((first, last))
}

/// Tokenizes a span example with the context's character offsets and the first answer's tokens.
pub fn span_item(e: &SpanExample, tok: &Tok) -> Result<SpanItem> {
    let question = tok.encode(&e.question)?;
    let (context, offsets) = tok.encode_with_offsets(&e.context)?;
    let gold = e
        .answers
        .first()
        .and_then(|a| char_span_to_tokens(&offsets, a.start, a.text.chars().count()));
    Ok(SpanItem {
        question,
        context,
        offsets,
        gold,
    })
}

/// How many question tokens a row of `seq_len` keeps: all, up to half the row.
pub fn question_room(question: usize, seq_len: usize) -> usize {
    question.min(seq_len.saturating_sub(3) / 2)
}

/// Windows of at most `room` tokens over `n` context tokens, starting `stride` apart; the last
/// ends at `n`. One (empty) window for an empty context.
pub fn windows(n: usize, room: usize, stride: usize) -> Vec<Window> {
    let (room, stride) = (room.max(1), stride.max(1));
    let mut out = Vec::new();
    let mut start = 0;
    loop {
        let len = room.min(n - start);
        out.push(Window { start, len });
        if start + len >= n {
            return out;
        }
        start += stride;
    }
}

/// The default stride: half of what one window holds for the context.
pub fn default_stride(question: usize, seq_len: usize) -> usize {
    (context_room(question, seq_len) / 2).max(1)
}

/// Context tokens one window holds beside a question of `question` tokens.
pub fn context_room(question: usize, seq_len: usize) -> usize {
    seq_len.saturating_sub(3 + question_room(question, seq_len))
}

/// The rows of a span item: one per window (with `stride`, or the default for its question),
/// or only the first window when `all_windows` is false (truncation).
pub fn span_rows(
    item: &SpanItem,
    seq_len: usize,
    stride: Option<usize>,
    all_windows: bool,
) -> Result<Vec<SpanRow>> {
    if seq_len < 4 {
        return Err(DataError::Batch {
            message: format!("seq_len {seq_len} is too short for [CLS] q [SEP] context [SEP]"),
        });
    }
    let nq = question_room(item.question.len(), seq_len);
    let room = context_room(item.question.len(), seq_len);
    let stride = stride.unwrap_or_else(|| default_stride(item.question.len(), seq_len));
    let mut ws = windows(item.context.len(), room, stride.min(room.max(1)));
    if !all_windows {
        ws.truncate(1);
    }
    Ok(ws
        .into_iter()
        .map(|w| {
            let mut ids = Vec::with_capacity(seq_len);
            ids.push(CLS_ID as i64);
            ids.extend(item.question[..nq].iter().map(|&i| i as i64));
            ids.push(SEP_ID as i64);
            let context_at = ids.len();
            ids.extend(
                item.context[w.start..w.start + w.len]
                    .iter()
                    .map(|&i| i as i64),
            );
            ids.push(SEP_ID as i64);
            let n = ids.len();
            let mut types = vec![0; context_at];
            types.extend(std::iter::repeat_n(1, n - context_at));
            let mut span_mask = vec![0; seq_len];
            span_mask[0] = 1;
            for m in &mut span_mask[context_at..context_at + w.len] {
                *m = 1;
            }
            let mut attention_mask = vec![1; n];
            attention_mask.resize(seq_len, 0);
            ids.resize(seq_len, PAD_ID as i64);
            types.resize(seq_len, 0);
            let target = match item.gold {
                Some((s, e)) if s >= w.start && e < w.start + w.len => (
                    (context_at + s - w.start) as i64,
                    (context_at + e - w.start) as i64,
                ),
                _ => (0, 0),
            };
            SpanRow {
                row: Row {
                    input_ids: ids,
                    attention_mask,
                    token_type_ids: types,
                },
                span_mask,
                window: w,
                context_at,
                target,
            }
        })
        .collect())
}

/// The padding row of a span batch: `[CLS] [SEP]`, no answer positions but `[CLS]`, targets
/// ignored.
pub fn padding_span_row(seq_len: usize) -> SpanRow {
    let mut ids = vec![CLS_ID as i64, SEP_ID as i64];
    ids.resize(seq_len, PAD_ID as i64);
    let mut attention_mask = vec![1, 1];
    attention_mask.resize(seq_len, 0);
    let mut span_mask = vec![0; seq_len];
    span_mask[0] = 1;
    SpanRow {
        row: Row {
            input_ids: ids,
            attention_mask,
            token_type_ids: vec![0; seq_len],
        },
        span_mask,
        window: Window { start: 0, len: 0 },
        context_at: 2,
        target: (IGNORE_INDEX, IGNORE_INDEX),
    }
}

/// A decoded answer: context tokens `[first, last]` and its score (start + end logit).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decoded {
    pub first: usize,
    pub last: usize,
    pub score: f32,
}

/// The best span of one window's row: context positions only, end ≥ start,
/// end − start < `max_tokens`; in context-token indices of the whole context.
pub fn best_in_window(
    start_logits: &[f32],
    end_logits: &[f32],
    row: &SpanRow,
    max_tokens: usize,
) -> Option<Decoded> {
    let (at, w) = (row.context_at, row.window);
    let mut best: Option<Decoded> = None;
    for s in 0..w.len {
        for e in s..w.len.min(s + max_tokens.max(1)) {
            let score = start_logits[at + s] + end_logits[at + e];
            if best.is_none_or(|b| score > b.score) {
                best = Some(Decoded {
                    first: w.start + s,
                    last: w.start + e,
                    score,
                });
            }
        }
    }
    best
}

/// The best span over an example's windows (the highest score wins; ties keep the earlier).
pub fn best_over_windows(per_window: impl IntoIterator<Item = Option<Decoded>>) -> Option<Decoded> {
    per_window
        .into_iter()
        .flatten()
        .fold(None, |best: Option<Decoded>, d| {
            if best.is_none_or(|b| d.score > b.score) {
                Some(d)
            } else {
                best
            }
        })
}

/// The context substring of a decoded span, through the tokens' character offsets.
pub fn answer_text(context: &str, offsets: &[(usize, usize)], d: &Decoded) -> String {
    let (Some(&(from, _)), Some(&(_, to))) = (offsets.get(d.first), offsets.get(d.last)) else {
        return String::new();
    };
    context
        .chars()
        .skip(from)
        .take(to.saturating_sub(from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_context_stride_apart() {
        let w = windows(10, 4, 3);
        let starts: Vec<(usize, usize)> = w.iter().map(|w| (w.start, w.len)).collect();
        assert_eq!(starts, vec![(0, 4), (3, 4), (6, 4)]);
        assert_eq!(windows(3, 4, 2), vec![Window { start: 0, len: 3 }]);
        assert_eq!(windows(0, 4, 2), vec![Window { start: 0, len: 0 }]);
    }

    #[test]
    fn char_offsets_map_to_covering_tokens() {
        // "the big dog": tokens the[0,3) big[4,7) dog[8,11)
        let off = [(0, 3), (4, 7), (8, 11)];
        assert_eq!(char_span_to_tokens(&off, 4, 7), Some((1, 2)));
        assert_eq!(char_span_to_tokens(&off, 5, 1), Some((1, 1)));
        assert_eq!(char_span_to_tokens(&off, 11, 2), None);
    }

    fn item(ctx: usize, gold: (usize, usize)) -> SpanItem {
        SpanItem {
            question: vec![10, 11],
            context: (0..ctx as u32).map(|i| 20 + i).collect(),
            offsets: (0..ctx).map(|i| (2 * i, 2 * i + 1)).collect(),
            gold: Some(gold),
        }
    }

    #[test]
    fn targets_point_into_the_window_or_at_cls() {
        // seq 10: [CLS] q q [SEP] + 5 context + [SEP]; stride 2 over 9 tokens: 0, 2, 4.
        let rows = span_rows(&item(9, (5, 6)), 10, Some(2), true).unwrap();
        let got: Vec<(usize, (i64, i64))> =
            rows.iter().map(|r| (r.window.start, r.target)).collect();
        assert_eq!(got, vec![(0, (0, 0)), (2, (7, 8)), (4, (5, 6))]);
        assert_eq!(
            rows[1].row.input_ids[..5],
            [CLS_ID as i64, 10, 11, SEP_ID as i64, 22]
        );
        assert_eq!(rows[1].span_mask, vec![1, 0, 0, 0, 1, 1, 1, 1, 1, 0]);
        assert_eq!(
            span_rows(&item(9, (5, 6)), 10, Some(2), false)
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn decoding_takes_the_best_valid_span_across_windows() {
        let rows = span_rows(&item(9, (5, 6)), 10, Some(2), true).unwrap();
        let mut decoded = Vec::new();
        for r in &rows {
            let (mut s, mut e) = (vec![0.0f32; 10], vec![0.0f32; 10]);
            // Every window votes for context token 5..6 where it holds it; [CLS] scores highest
            // but is never decoded.
            s[0] = 9.0;
            e[0] = 9.0;
            for p in 0..r.window.len {
                let c = r.window.start + p;
                if c == 5 {
                    s[r.context_at + p] = 2.0 + r.window.start as f32;
                }
                if c == 6 {
                    e[r.context_at + p] = 2.0;
                }
            }
            decoded.push(best_in_window(&s, &e, r, 30));
        }
        let best = best_over_windows(decoded).unwrap();
        assert_eq!((best.first, best.last), (5, 6));
        // Token i covers characters [2i, 2i + 1): tokens 5 and 6 are characters [10, 13).
        let it = item(9, (5, 6));
        assert_eq!(answer_text("abcdefghijklmnopqr", &it.offsets, &best), "klm");
    }

    #[test]
    fn max_answer_tokens_bounds_the_span() {
        let rows = span_rows(&item(5, (0, 4)), 12, None, true).unwrap();
        let r = &rows[0];
        let (mut s, mut e) = (vec![0.0f32; 12], vec![0.0f32; 12]);
        s[r.context_at] = 5.0;
        e[r.context_at + 4] = 5.0;
        e[r.context_at + 1] = 1.0;
        let d = best_in_window(&s, &e, r, 2).unwrap();
        assert_eq!((d.first, d.last), (0, 1));
        let d = best_in_window(&s, &e, r, 5).unwrap();
        assert_eq!((d.first, d.last), (0, 4));
    }
}
