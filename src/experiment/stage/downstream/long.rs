//! Long inputs of `classify`, `pair` and `tag` in a downstream stage (`long = "windows"`): the
//! splits cut into windows ([`data::window_items`]), what that reads and cuts recorded, and the
//! windows batched.
//!
//! - `classify` and `pair`: a batch holds whole examples, each with all its windows (so at most
//!   `batch_size` windows per example), and the input `window_mask` tells the graph which rows
//!   pool into which example; `labels` are per example. Feature extraction pools the windows'
//!   features the same way on the host ([`pool_host`]).
//! - `tag`: windows are independent rows whose labels are those of the tokens each reads best;
//!   test spans are read over an example's windows together ([`Windows::row_examples`]).

use crate::config::{DownstreamConfig, LongInputs, WindowPool};
use crate::data::{self, BatchConfig, Batcher, IGNORE_INDEX, Item, Target, Windowed};
use crate::experiment::stage::Metrics;
use crate::experiment::stage::inputs::feeds_of;
use crate::graph::Tensor;
use crate::model::{self, Input};
use crate::task::WindowRule;
use crate::train::StepInputs;
use anyhow::Result;

/// The three splits of a windowed stage.
pub(super) struct Windows {
    pub splits: [Windowed; 3],
    /// Whether windows pool into their example (classify, pair) or stand alone (tag).
    pub pooled: bool,
}

impl Windows {
    /// The windows of a stage's splits, or `None` when it truncates (or is a span task, which
    /// windows its own way).
    pub fn of(
        d: &DownstreamConfig,
        items: &[Vec<Item>; 3],
        seq: usize,
        batch: usize,
    ) -> Option<Windows> {
        if d.long_inputs() != LongInputs::Windows {
            return None;
        }
        let pooled = match d.task.windows() {
            WindowRule::Pooled => true,
            WindowRule::PerRow => false,
            WindowRule::Own => return None,
        };
        let stride = data::stride_or_default(d.stride, seq);
        let cap = pooled.then_some(batch);
        let w = |items: &[Item]| data::window_items(items, seq, stride, cap);
        Some(Windows {
            splits: [w(&items[0]), w(&items[1]), w(&items[2])],
            pooled,
        })
    }

    /// Records `data.NAME.truncated_examples` (examples longer than a row, now read in
    /// windows), `data.NAME.cut_token_share` (what the windows leave unread) and
    /// `data.NAME.windows_per_example` (train), and warns when more than a tenth of the examples
    /// lose text.
    pub fn record(&self, metrics: &mut Metrics, name: &str, seq_len: usize) {
        let mut t = data::Truncation::default();
        for s in &self.splits {
            t.add(s.cut);
        }
        metrics.insert(
            format!("data.{name}.truncated_examples"),
            t.truncated as f64,
        );
        metrics.insert(format!("data.{name}.cut_token_share"), t.cut_share());
        metrics.insert(
            format!("data.{name}.windows_per_example"),
            self.splits[0].per_example(),
        );
        let losing: usize = self.splits.iter().map(|s| s.cut_examples).sum();
        if losing as f64 > data::WARN_TRUNCATED_SHARE * t.examples as f64 {
            eprintln!(
                "warning: dataset '{name}': {losing} of {} examples are longer than their windows of seq_len = {seq_len} read, {:.1}% of the tokens unread (an example's windows must fit one batch; hint: raise batch_size or stride)",
                t.examples,
                100.0 * t.cut_share(),
            );
        }
    }

    /// The batches of split `i` (0 train, 1 dev, 2 test).
    pub fn batches(
        &self,
        i: usize,
        batch: usize,
        seq: usize,
        segments: bool,
    ) -> Result<Vec<StepInputs>> {
        let w = &self.splits[i];
        if w.items.is_empty() {
            return Ok(Vec::new());
        }
        let batcher = Batcher::new(&w.items, BatchConfig::new(batch, seq))?;
        if !self.pooled {
            return Ok(batcher.epoch(0).map(|b| feeds_of(b, segments)).collect());
        }
        let mut out = Vec::new();
        for group in example_groups(w, batch) {
            let rows: Vec<usize> = group.iter().flat_map(|(_, r)| r.clone()).collect();
            let mut feeds = feeds_of(batcher.batch(&rows), segments);
            let mut labels = vec![IGNORE_INDEX; batch];
            // Row e of the mask: the windows of the group's e-th example; rows without an
            // example point at window 0 (their labels are ignored).
            let mut mask = vec![0f32; batch * batch];
            let mut at = 0;
            for (e, (_, r)) in group.iter().enumerate() {
                labels[e] = match &w.items[r.start].target {
                    Target::Class(c) => *c,
                    Target::None | Target::Tokens(_) => IGNORE_INDEX,
                };
                for j in at..at + r.len() {
                    mask[e * batch + j] = 1.0;
                }
                at += r.len();
            }
            for e in group.len()..batch {
                mask[e * batch] = 1.0;
            }
            feeds.set(Input::Labels, Tensor::i64(vec![batch], labels));
            feeds.set(Input::WindowMask, Tensor::f32(vec![batch, batch], mask));
            out.push(feeds);
        }
        Ok(out)
    }

    /// The example of each row of split `i`'s batches, in order (padding rows none): tagging
    /// reads an example's spans over all its windows.
    pub fn row_examples(&self, i: usize) -> Option<&[usize]> {
        (!self.pooled).then_some(self.splits[i].example.as_slice())
    }
}

/// Consecutive examples grouped so that each group's windows fit one batch: (example, its
/// window rows) per member.
fn example_groups(w: &Windowed, batch: usize) -> Vec<Vec<(usize, std::ops::Range<usize>)>> {
    let mut spans: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    for (row, &e) in w.example.iter().enumerate() {
        match spans.last_mut() {
            Some((last, r)) if *last == e => r.end = row + 1,
            _ => spans.push((e, row..row + 1)),
        }
    }
    let mut groups: Vec<Vec<(usize, std::ops::Range<usize>)>> = Vec::new();
    let mut used = 0;
    for (e, r) in spans {
        if groups.is_empty() || used + r.len() > batch {
            groups.push(Vec::new());
            used = 0;
        }
        used += r.len();
        groups.last_mut().expect("a group").push((e, r));
    }
    groups
}

/// Feature extraction's pooling of window rows: `features [W, D]` to `[W, D]` per-example rows
/// by `window_mask [W, W]`, as the training graph pools them.
pub(super) fn pool_host(features: &[f32], mask: &[f32], d: usize, pool: WindowPool) -> Vec<f32> {
    let w = features.len() / d.max(1);
    let rows: Vec<&[f32]> = features.chunks(d.max(1)).collect();
    (0..w)
        .flat_map(|e| {
            let members: Vec<&[f32]> = (0..w)
                .filter(|&j| mask[e * w + j] > 0.0)
                .map(|j| rows[j])
                .collect();
            model::pool_rows(&members, d, pool.into())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_hold_whole_examples_within_a_batch() {
        let w = Windowed {
            items: vec![],
            example: vec![0, 0, 0, 1, 2, 2, 3],
            examples: 4,
            cut: data::Truncation::default(),
            cut_examples: 0,
        };
        let g = example_groups(&w, 4);
        assert_eq!(
            g,
            vec![vec![(0, 0..3), (1, 3..4)], vec![(2, 4..6), (3, 6..7)]]
        );
    }

    #[test]
    fn host_pooling_is_the_mean_or_maximum_of_an_examples_windows() {
        // Two windows of example 0, row 1 without an example (window 0).
        let f = [1.0, -2.0, 3.0, 4.0];
        let mask = [1.0, 1.0, 1.0, 0.0];
        assert_eq!(
            pool_host(&f, &mask, 2, WindowPool::Mean),
            vec![2.0, 1.0, 1.0, -2.0]
        );
        assert_eq!(
            pool_host(&f, &mask, 2, WindowPool::Max),
            vec![3.0, 4.0, 1.0, -2.0]
        );
    }
}
