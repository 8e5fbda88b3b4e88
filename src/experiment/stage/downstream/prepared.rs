//! A downstream stage's data from its dataset to fixed batches: loaded and tokenized (items and
//! label names, or a span task's windows), long examples truncated or read in windows (what
//! either cuts recorded), and the three splits batched.

use super::long::Windows;
use super::span::{SpanData, SpanSplit, Windowing, span_batches, span_data};
use super::stage::DownstreamStage;
use crate::config::{DatasetConfig, DownstreamConfig};
use crate::data::{self, BatchConfig, Batcher, Item, Tok};
use crate::experiment::stage::Metrics;
use crate::experiment::stage::graphs::GraphShape;
use crate::experiment::stage::inputs::{
    feeds_of, prepare, record_filter, record_tokens, record_truncation,
};
use crate::task::Target;
use crate::train::StepInputs;
use anyhow::Result;
use std::path::Path;

/// The fixed batches of the three splits.
pub(super) struct Splits {
    pub train: Vec<StepInputs>,
    pub dev: Vec<StepInputs>,
    pub test: Vec<StepInputs>,
}

/// A downstream task's data, tokenized: items and label names, or span windows.
pub(super) enum Prepared {
    Labeled([Vec<Item>; 3], Vec<String>),
    Span(SpanData),
}

impl Prepared {
    /// Loads and tokenizes the stage's dataset, recording what filtering kept, how the
    /// tokenizer fits it and labels seen only outside train.
    pub fn load(
        s: &DownstreamStage,
        dc: &DatasetConfig,
        tok: &Tok,
        metrics: &mut Metrics,
    ) -> Result<Prepared> {
        let (dcfg, name) = (s.downstream, &s.data.name);
        let answers = match dcfg.task.target() {
            Target::Answer => true,
            Target::Class | Target::Tags => false,
        };
        if answers {
            let ds = data::load_span_dataset(dc, Path::new(""))?;
            metrics.insert(
                format!("data.{name}.kept"),
                (ds.train.len() + ds.dev.len() + ds.test.len()) as f64,
            );
            record_tokens(metrics, name, tok, &ds.train_texts())?;
            let seq = dcfg.seq_len.min(s.encoder.max_len);
            let sd = span_data(ds, tok, Windowing::of(dcfg, seq))?;
            metrics.insert(
                format!("data.{name}.windows_per_example"),
                sd.train.rows.len() as f64 / sd.train.examples.len().max(1) as f64,
            );
            return Ok(Prepared::Span(sd));
        }
        let (ds, report) = data::load_dataset(dc, Path::new(""))?;
        record_filter(metrics, name, &report);
        // How the tokenizer fits this dataset, and labels a model cannot learn (absent from
        // train).
        record_tokens(metrics, name, tok, &ds.train_texts())?;
        metrics.insert(
            format!("data.{name}.unseen_labels"),
            ds.unseen_labels.len() as f64,
        );
        if !ds.unseen_labels.is_empty() {
            eprintln!(
                "note: dataset '{name}': labels only outside train (ignored in scores): {}",
                ds.unseen_labels.join(", ")
            );
        }
        let (items, labels) = prepare(dcfg.task, &ds, tok)?;
        Ok(Prepared::Labeled(items, labels))
    }

    /// Long examples: cut at `seq_len` (counted), or read in windows (`long = "windows"`); a
    /// span task windows its own way.
    pub fn windows(
        &self,
        dcfg: &DownstreamConfig,
        shape: &GraphShape,
        name: &str,
        metrics: &mut Metrics,
    ) -> Option<Windows> {
        let Prepared::Labeled(items, _) = self else {
            return None;
        };
        let w = Windows::of(dcfg, items, shape.seq, shape.batch);
        match &w {
            Some(w) => w.record(metrics, name, shape.seq),
            None => {
                record_truncation(metrics, name, [&items[0], &items[1], &items[2]], shape.seq);
            }
        }
        w
    }

    /// The fixed batches of the three splits (and a span task's windows, for its scores).
    pub fn splits(
        &self,
        windows: Option<&Windows>,
        shape: &GraphShape,
        seed: u64,
    ) -> Result<(Splits, Option<&SpanData>)> {
        let segments = shape.spec.segment;
        let batches = |items: &[Item]| -> Result<Vec<StepInputs>> {
            if items.is_empty() {
                return Ok(Vec::new());
            }
            let batcher = Batcher::new(
                items,
                BatchConfig {
                    batch_size: shape.batch,
                    seq_len: shape.seq,
                    buckets: vec![],
                    shuffle: false,
                    seed,
                },
            )?;
            Ok(batcher.epoch(0).map(|x| feeds_of(x, segments)).collect())
        };
        Ok(match (self, windows) {
            (Prepared::Labeled(items, _), None) => (
                Splits {
                    train: batches(&items[0])?,
                    dev: batches(&items[1])?,
                    test: batches(&items[2])?,
                },
                None,
            ),
            (Prepared::Labeled(..), Some(w)) => {
                let b = |i| w.batches(i, shape.batch, shape.seq, segments);
                (
                    Splits {
                        train: b(0)?,
                        dev: b(1)?,
                        test: b(2)?,
                    },
                    None,
                )
            }
            (Prepared::Span(sd), _) => {
                let b = |x: &SpanSplit| span_batches(x, shape.batch, shape.seq, segments);
                (
                    Splits {
                        train: b(&sd.train),
                        dev: b(&sd.dev),
                        test: b(&sd.test),
                    },
                    Some(sd),
                )
            }
        })
    }
}
