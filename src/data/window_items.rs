//! Long examples of `classify`, `pair` and `tag` read as overlapping windows
//! (`long = "windows"`): one item per window, each knowing its example.
//!
//! - A single text is cut into windows of the text tokens one row holds (`seq_len` − 2).
//! - A pair keeps its first text whole (or, when that alone would fill more than half a row,
//!   its first tokens up to half) and cuts the second into windows of the room left, as BERT
//!   reads a question beside a long context.
//! - A tagging example's windows keep the labels of the tokens they read best
//!   ([`super::windows::best_window`]) and ignore the rest, so every labelled token is scored
//!   once, from the window that sees most context around it.
//!
//! `max_windows` caps the windows of one example (a classify or pair batch must hold all of an
//! example's windows); what the cap leaves out is counted as cut.

use super::batch::{IGNORE_INDEX, Item, Target};
use super::windows::{Truncation, best_window, window_room, windows};

/// The windows of a set of examples.
#[derive(Debug, Clone, PartialEq)]
pub struct Windowed {
    /// One item per window, examples in order and each example's windows in text order.
    pub items: Vec<Item>,
    /// The example (index into the items given) of each window.
    pub example: Vec<usize>,
    /// The examples' count.
    pub examples: usize,
    /// Examples longer than a row, and the text tokens no window reads.
    pub cut: Truncation,
    /// Examples with text no window reads (by `max_windows`, or a pair's long first text).
    pub cut_examples: usize,
}

impl Windowed {
    /// Windows per example (1 when every example fits a row).
    pub fn per_example(&self) -> f64 {
        self.items.len() as f64 / self.examples.max(1) as f64
    }
}

/// Cuts every item longer than a row of `seq_len` into windows starting `stride` tokens apart
/// (clamped to the window; see [`windows`]), at most `max_windows` per example.
pub fn window_items(
    items: &[Item],
    seq_len: usize,
    stride: usize,
    max_windows: Option<usize>,
) -> Windowed {
    let mut out = Windowed {
        items: Vec::new(),
        example: Vec::new(),
        examples: items.len(),
        cut: Truncation::default(),
        cut_examples: 0,
    };
    let cap = max_windows.unwrap_or(usize::MAX).max(1);
    for (e, item) in items.iter().enumerate() {
        let before = out.items.len();
        let total = item.a.len() + item.b.as_ref().map_or(0, Vec::len);
        let read = match &item.b {
            None => single(item, seq_len, stride, cap, &mut out.items),
            Some(b) => pair(item, b, seq_len, stride, cap, &mut out.items),
        };
        out.example
            .extend(std::iter::repeat_n(e, out.items.len() - before));
        out.cut.examples += 1;
        out.cut.tokens += total;
        out.cut.cut += total - read;
        out.cut.truncated += usize::from(item.len() > seq_len);
        out.cut_examples += usize::from(read < total);
    }
    out
}

/// A single text's windows; returns the text tokens they read.
fn single(item: &Item, seq_len: usize, stride: usize, cap: usize, out: &mut Vec<Item>) -> usize {
    let size = window_room(seq_len).max(1);
    let mut ws = windows(item.a.len(), size, stride);
    ws.truncate(cap);
    let read = ws.last().map_or(0, |w| w.end);
    for (i, w) in ws.iter().enumerate() {
        let target = match &item.target {
            Target::Tokens(t) => Target::Tokens(
                w.clone()
                    .map(|pos| match best_window(&ws, pos) {
                        Some(best) if best == i => t.get(pos).copied().unwrap_or(IGNORE_INDEX),
                        _ => IGNORE_INDEX,
                    })
                    .collect(),
            ),
            other => other.clone(),
        };
        out.push(Item {
            a: item.a[w.clone()].to_vec(),
            b: None,
            target,
        });
    }
    read
}

/// A pair's windows over its second text; returns the text tokens they read.
fn pair(
    item: &Item,
    b: &[u32],
    seq_len: usize,
    stride: usize,
    cap: usize,
    out: &mut Vec<Item>,
) -> usize {
    // [CLS] a [SEP] b [SEP]
    let room = seq_len.saturating_sub(3).max(2);
    let na = if item.a.len() + b.len() <= room {
        item.a.len()
    } else {
        item.a
            .len()
            .min((room / 2).max(room.saturating_sub(b.len())))
    };
    let size = (room - na).max(1);
    let mut ws = windows(b.len(), size, stride);
    ws.truncate(cap);
    let read = na + ws.last().map_or(0, |w| w.end);
    for w in ws {
        out.push(Item {
            a: item.a[..na].to_vec(),
            b: Some(b[w].to_vec()),
            target: item.target.clone(),
        });
    }
    read
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: usize) -> Item {
        Item {
            a: (0..n as u32).collect(),
            b: None,
            target: Target::Class(1),
        }
    }

    #[test]
    fn a_short_text_is_one_window_and_a_long_one_is_read_whole() {
        // seq_len 10: 8 text tokens per window.
        let w = window_items(&[text(5), text(20)], 10, 4, None);
        assert_eq!(w.example, vec![0, 1, 1, 1, 1]);
        assert_eq!(w.items[0].a, (0..5).collect::<Vec<u32>>());
        assert_eq!(w.items[1].a, (0..8).collect::<Vec<u32>>());
        assert_eq!(w.items[4].a, (12..20).collect::<Vec<u32>>());
        assert!(w.items.iter().all(|i| i.target == Target::Class(1)));
        assert_eq!((w.cut.examples, w.cut.truncated, w.cut.cut), (2, 1, 0));
        assert!((w.per_example() - 2.5).abs() < 1e-12);
    }

    #[test]
    fn the_cap_cuts_the_tail_and_counts_it() {
        let w = window_items(&[text(20)], 10, 4, Some(2));
        assert_eq!(w.items.len(), 2);
        // Windows 0..8 and 4..12 read 12 of 20 tokens.
        assert_eq!((w.cut.tokens, w.cut.cut, w.cut_examples), (20, 8, 1));
    }

    #[test]
    fn each_tag_is_kept_once_in_the_window_that_reads_it_best() {
        let item = Item {
            a: (0..20).collect(),
            b: None,
            target: Target::Tokens((100..120).collect()),
        };
        let w = window_items(&[item], 10, 4, None);
        let mut kept: Vec<i64> = Vec::new();
        for it in &w.items {
            let Target::Tokens(t) = &it.target else {
                panic!("tags expected")
            };
            assert_eq!(t.len(), it.a.len());
            kept.extend(t.iter().filter(|&&x| x != IGNORE_INDEX));
        }
        // In order, once each: concatenating the windows' kept tags gives the example's tags.
        assert_eq!(kept, (100..120).collect::<Vec<i64>>());
    }

    #[test]
    fn a_pair_keeps_its_first_text_and_windows_the_second() {
        let item = Item {
            a: vec![1, 2],
            b: Some((10..30).collect()),
            target: Target::Class(0),
        };
        // seq_len 10: 7 text tokens, 2 for a, windows of 5 over b.
        let w = window_items(&[item], 10, 3, None);
        for it in &w.items {
            assert_eq!(it.a, vec![1, 2]);
            assert!(it.len() <= 10);
        }
        let b: Vec<u32> = w.items.iter().flat_map(|i| i.b.clone().unwrap()).collect();
        for t in 10..30 {
            assert!(b.contains(&t), "token {t} unread");
        }
        assert_eq!(w.cut.cut, 0);
        // A pair that fits is one window, unchanged.
        let short = Item {
            a: vec![1, 2],
            b: Some(vec![3, 4]),
            target: Target::Class(0),
        };
        assert_eq!(
            window_items(std::slice::from_ref(&short), 10, 3, None).items,
            vec![short]
        );
    }
}
