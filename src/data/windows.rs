//! Long inputs: cutting a token sequence into overlapping windows, choosing the window that
//! reads a token best, and counting what truncation cuts.
//!
//! Pure functions over lengths, shared by every task that reads long texts (`classify`, `pair`
//! and `tag` here; `span` cuts its contexts with the same [`windows`]).

use crate::data::batch::{Item, truncate_pair};
use std::ops::Range;

/// The windows of `size` tokens over a sequence of `n`, starting `stride` tokens apart, the last
/// one aligned to the end: starts 0, stride, 2·stride, … while a window ending there would leave
/// tokens out, then `n - size`. One window `0..n` when `n ≤ size` (also for `n = 0`). Every token
/// is in at least one window when `1 ≤ stride ≤ size`; `stride` is clamped into that range.
pub fn windows(n: usize, size: usize, stride: usize) -> Vec<Range<usize>> {
    let size = size.max(1);
    if n <= size {
        return std::iter::once(0..n).collect();
    }
    let stride = stride.clamp(1, size);
    let mut out = Vec::new();
    let mut start = 0;
    while start + size < n {
        out.push(start..start + size);
        start += stride;
    }
    out.push(n - size..n);
    out
}

/// The window (an index into `windows`) that holds token `pos` furthest from either of its
/// edges, the first such on a tie; `None` when no window holds it. Tokens near a window's edge
/// see little context on one side, so tagging and span decoding read each token from here.
pub fn best_window(windows: &[Range<usize>], pos: usize) -> Option<usize> {
    windows
        .iter()
        .enumerate()
        .filter(|(_, w)| w.contains(&pos))
        .map(|(i, w)| {
            let margin = (pos - w.start).min(w.end - 1 - pos);
            (i, margin)
        })
        .fold(None, |best: Option<(usize, usize)>, (i, m)| match best {
            Some((_, bm)) if bm >= m => best,
            _ => Some((i, m)),
        })
        .map(|(i, _)| i)
}

/// The text tokens a window of `seq_len` holds besides `[CLS]` and `[SEP]`.
pub fn window_room(seq_len: usize) -> usize {
    seq_len.saturating_sub(2)
}

/// The stride of `stride`, or its default: half of the text tokens one window holds.
pub fn stride_or_default(stride: Option<usize>, seq_len: usize) -> usize {
    stride.unwrap_or((window_room(seq_len) / 2).max(1))
}

/// What truncation to `seq_len` cuts from a set of items.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Truncation {
    /// Items counted.
    pub examples: usize,
    /// Items longer than `seq_len` (special tokens included).
    pub truncated: usize,
    /// Text tokens of all items (special tokens not counted).
    pub tokens: usize,
    /// Text tokens truncation drops.
    pub cut: usize,
}

impl Truncation {
    /// Counts items encoded as `[CLS] a [SEP]` or `[CLS] a [SEP] b [SEP]` (pairs truncated
    /// longest first, as `batch::encode_pair` does).
    pub fn of_items(items: &[Item], seq_len: usize) -> Truncation {
        let mut t = Truncation::default();
        for item in items {
            let (total, kept) = match &item.b {
                None => (item.a.len(), item.a.len().min(window_room(seq_len))),
                Some(b) => {
                    let (na, nb) = truncate_pair(item.a.len(), b.len(), seq_len);
                    (item.a.len() + b.len(), na + nb)
                }
            };
            t.examples += 1;
            t.tokens += total;
            t.cut += total - kept;
            t.truncated += usize::from(kept < total);
        }
        t
    }

    /// Adds another count to this one.
    pub fn add(&mut self, other: Truncation) {
        self.examples += other.examples;
        self.truncated += other.truncated;
        self.tokens += other.tokens;
        self.cut += other.cut;
    }

    /// The share of text tokens cut (0 for no tokens).
    pub fn cut_share(&self) -> f64 {
        if self.tokens == 0 {
            0.0
        } else {
            self.cut as f64 / self.tokens as f64
        }
    }

    /// The share of examples cut (0 for no examples).
    pub fn truncated_share(&self) -> f64 {
        if self.examples == 0 {
            0.0
        } else {
            self.truncated as f64 / self.examples as f64
        }
    }
}

/// Above this share of examples cut with `long = "truncate"`, a warning names the dataset.
pub const WARN_TRUNCATED_SHARE: f64 = 0.1;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::batch::Target;

    #[test]
    fn every_token_is_covered_stride_is_respected_and_the_last_window_ends_at_the_end() {
        for n in 0..40 {
            for size in 1..12 {
                for stride in 1..=size {
                    let ws = windows(n, size, stride);
                    for pos in 0..n {
                        assert!(
                            ws.iter().any(|w| w.contains(&pos)),
                            "n {n} size {size} stride {stride}: token {pos} uncovered"
                        );
                    }
                    assert_eq!(ws.last().unwrap().end, n, "n {n} size {size}");
                    for w in &ws {
                        assert!(w.len() == size.min(n), "window {w:?} of n {n} size {size}");
                    }
                    // Consecutive starts are `stride` apart, except the last (end-aligned) one,
                    // which is closer.
                    for pair in ws.windows(2) {
                        let gap = pair[1].start - pair[0].start;
                        assert!(gap <= stride && gap > 0, "{ws:?}");
                    }
                    for pair in ws.windows(2).take(ws.len().saturating_sub(2)) {
                        assert_eq!(pair[1].start - pair[0].start, stride, "{ws:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn windows_by_example() {
        assert_eq!(windows(5, 8, 4), vec![0..5]);
        assert_eq!(windows(8, 8, 4), vec![0..8]);
        assert_eq!(windows(10, 8, 4), vec![0..8, 2..10]);
        assert_eq!(windows(20, 8, 4), vec![0..8, 4..12, 8..16, 12..20]);
        assert_eq!(windows(21, 8, 4), vec![0..8, 4..12, 8..16, 12..20, 13..21]);
    }

    #[test]
    fn the_best_window_holds_the_token_furthest_from_an_edge() {
        let ws = windows(20, 8, 4); // 0..8, 4..12, 8..16, 12..20
        assert_eq!(best_window(&ws, 0), Some(0));
        assert_eq!(best_window(&ws, 3), Some(0)); // margin 3 in 0..8, 0 in none other
        assert_eq!(best_window(&ws, 6), Some(1)); // margin 1 in 0..8, 2 in 4..12
        assert_eq!(best_window(&ws, 19), Some(3));
        assert_eq!(best_window(&ws, 20), None);
    }

    fn item(a: usize, b: Option<usize>) -> Item {
        Item {
            a: vec![7; a],
            b: b.map(|n| vec![7; n]),
            target: Target::Class(0),
        }
    }

    #[test]
    fn truncation_counts_the_examples_and_tokens_cut() {
        // seq_len 10: 8 text tokens for a single text, 7 for a pair.
        let t = Truncation::of_items(&[item(5, None), item(8, None), item(12, None)], 10);
        assert_eq!(
            t,
            Truncation {
                examples: 3,
                truncated: 1,
                tokens: 25,
                cut: 4
            }
        );
        assert!((t.cut_share() - 4.0 / 25.0).abs() < 1e-12);
        let p = Truncation::of_items(&[item(3, Some(4)), item(6, Some(6))], 10);
        assert_eq!((p.truncated, p.tokens, p.cut), (1, 19, 5));
    }
}
