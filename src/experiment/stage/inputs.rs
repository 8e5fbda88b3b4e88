//! From the plan's data to what a stage feeds its graphs: texts, filter counts, and batches as
//! named tensors.

use crate::config::DownstreamTask;
use crate::data::{self, Dataset, Item, Labels, Tok};
use crate::experiment::plan::{DataSource, NamedData};
use crate::graph::Tensor;
use crate::model::Input;
use crate::train::StepInputs;
use anyhow::Result;
use std::path::Path;

use super::Metrics;

/// Records a filter report as `data.<name>.kept` and `data.<name>.removed.<filter>`.
pub fn record_filter(metrics: &mut Metrics, name: &str, report: &data::FilterReport) {
    metrics.insert(format!("data.{name}.kept"), report.kept as f64);
    for (f, n) in &report.removed {
        metrics.insert(format!("data.{name}.removed.{f}"), *n as f64);
    }
}

/// Records what truncation to `seq_len` cuts from a dataset's items (every split together) as
/// `data.<name>.truncated_examples` and `data.<name>.cut_token_share`, and warns on stderr,
/// naming the dataset, when it cuts more than a tenth of the examples.
pub fn record_truncation(
    metrics: &mut Metrics,
    name: &str,
    splits: [&[Item]; 3],
    seq_len: usize,
) -> data::Truncation {
    let mut t = data::Truncation::default();
    for items in splits {
        t.add(data::Truncation::of_items(items, seq_len));
    }
    metrics.insert(
        format!("data.{name}.truncated_examples"),
        t.truncated as f64,
    );
    metrics.insert(format!("data.{name}.cut_token_share"), t.cut_share());
    if t.truncated_share() > data::WARN_TRUNCATED_SHARE {
        eprintln!(
            "warning: dataset '{name}': {} of {} examples ({:.0}%) are longer than seq_len = {seq_len} and are truncated, {:.1}% of the dataset's tokens cut (hint: raise seq_len)",
            t.truncated,
            t.examples,
            100.0 * t.truncated_share(),
            100.0 * t.cut_share(),
        );
    }
    t
}

/// Texts of a corpus, or the train texts (both sides of pairs) of a dataset.
pub fn texts_of(d: &NamedData, metrics: &mut Metrics) -> Result<Vec<String>> {
    Ok(match &d.source {
        DataSource::Corpus(c) => {
            let (lines, report) = data::load_corpus(c, Path::new(""))?;
            record_filter(metrics, &d.name, &report);
            lines
        }
        DataSource::Dataset(c) if data::looks_like_span(c, Path::new("")) => {
            let ds = data::load_span_dataset(c, Path::new(""))?;
            ds.train_texts().into_iter().map(String::from).collect()
        }
        DataSource::Dataset(c) => {
            let (ds, report) = data::load_dataset(c, Path::new(""))?;
            record_filter(metrics, &d.name, &report);
            ds.train
                .into_iter()
                .flat_map(|e| std::iter::once(e.text).chain(e.text_pair))
                .collect()
        }
    })
}

/// The documents of a corpus or of a dataset's train split (see `data::documents`), each a list
/// of lines, with the filter counts recorded as `texts_of` records them.
pub fn documents_of(d: &NamedData, metrics: &mut Metrics) -> Result<Vec<Vec<String>>> {
    Ok(match &d.source {
        DataSource::Corpus(c) => {
            let (docs, report) = data::load_corpus_documents(c, Path::new(""))?;
            record_filter(metrics, &d.name, &report);
            docs
        }
        DataSource::Dataset(c) if data::looks_like_span(c, Path::new("")) => {
            texts_of(d, metrics)?.into_iter().map(|t| vec![t]).collect()
        }
        DataSource::Dataset(c) => {
            let (docs, report) = data::load_dataset_documents(c, Path::new(""))?;
            record_filter(metrics, &d.name, &report);
            docs
        }
    })
}

/// Splits off every 50th item (at most 1,000) as a dev set; corpora of fewer than 100 items keep
/// everything for training and get no dev metrics.
pub fn hold_out<T>(items: Vec<T>) -> (Vec<T>, Vec<T>) {
    if items.len() < 100 {
        return (items, Vec::new());
    }
    let (mut train, mut dev) = (Vec::with_capacity(items.len()), Vec::new());
    for (i, it) in items.into_iter().enumerate() {
        if i % 50 == 49 && dev.len() < 1000 {
            dev.push(it)
        } else {
            train.push(it)
        }
    }
    (train, dev)
}

/// Converts a data batch into the graph's named inputs (`token_type_ids` only with segments).
pub fn feeds_of(batch: data::Batch, segments: bool) -> StepInputs {
    let (b, t) = (batch.batch_size, batch.seq_len);
    let mut f = StepInputs::from_iter([
        (Input::InputIds, Tensor::i64(vec![b, t], batch.input_ids)),
        (
            Input::AttentionMask,
            Tensor::i64(vec![b, t], batch.attention_mask),
        ),
    ]);
    if segments {
        f.set(
            Input::TokenTypeIds,
            Tensor::i64(vec![b, t], batch.token_type_ids),
        );
    }
    match batch.labels {
        Labels::Class(l) => f.set(Input::Labels, Tensor::i64(vec![b], l)),
        Labels::Tokens(l) => f.set(Input::Labels, Tensor::i64(vec![b * t], l)),
        Labels::None => {}
    }
    f
}

/// Tokenized train, dev and test items, and the label names.
pub(super) fn prepare(
    task: DownstreamTask,
    ds: &Dataset,
    tok: &Tok,
) -> Result<([Vec<Item>; 3], Vec<String>)> {
    let labels = task.label_names(ds)?;
    let split = |xs: &[data::Example]| task.items(xs, tok, &labels);
    Ok((
        [split(&ds.train)?, split(&ds.dev)?, split(&ds.test)?],
        labels,
    ))
}

/// The tokenizer's fit to a dataset's train texts: `data.NAME.unk_rate` and `avg_tokens`.
pub(super) fn record_tokens(
    metrics: &mut Metrics,
    name: &str,
    tok: &Tok,
    texts: &[&str],
) -> Result<()> {
    let stats = tok.stats(texts)?;
    metrics.insert(format!("data.{name}.unk_rate"), stats.unk_rate);
    metrics.insert(format!("data.{name}.avg_tokens"), stats.avg_len);
    Ok(())
}
