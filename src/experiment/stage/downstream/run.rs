//! The downstream stage: a task (classify, pair, tag) trained from scratch, on a frozen encoder,
//! or fine-tuned from a pretrained one, then tested once. The model it tested is saved in its
//! folder (see [`super::saved`]).

use super::prepared::Prepared;
use super::stage::DownstreamStage;
use super::training::{Phase, Training};
use crate::data::Tok;
use crate::experiment::plan::DataSource;
use crate::experiment::stage::graphs::{Upstream, downstream_shape, dump_if_asked, stage_graphs};
use crate::experiment::stage::saved::{SavedHead, save_downstream_model};
use crate::experiment::stage::{Metrics, StageContext, files};
use crate::task::Target;
use crate::train::TagScoring;
use anyhow::{Result, bail};

/// Trains and tests a downstream task; returns its metrics.
pub fn train_downstream(s: &DownstreamStage, ctx: &StageContext) -> Result<Metrics> {
    let dcfg = s.downstream;
    let d = s.data;
    let mut metrics = Metrics::new();
    let DataSource::Dataset(dc) = &d.source else {
        bail!("downstream data '{}' must be a dataset", d.name)
    };
    let tok = Tok::load(&s.tokenizer_dir.join(files::TOKENIZER))?;
    let prepared = Prepared::load(s, dc, &tok, &mut metrics)?;
    let (n_train, n_test, label_names) = match &prepared {
        Prepared::Labeled(items, labels) => (items[0].len(), items[2].len(), labels.clone()),
        Prepared::Span(sd) => (
            sd.train.rows.len(),
            sd.test.rows.len(),
            dcfg.task
                .fixed_outputs()
                .unwrap_or_default()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
    };
    let classes = label_names.len();
    if n_train == 0 || n_test == 0 {
        bail!(
            "dataset '{}' needs train and test examples (train {n_train}, test {n_test})",
            d.name,
        );
    }
    let up = Upstream::new(
        tok.vocab_size(),
        s.pretrained,
        Some(classes),
        s.embeddings,
        ctx.vectors.is_some(),
    );
    let (shape, protocol) = downstream_shape(dcfg, s.encoder, s.embeddings, &up, s.causal, s.seed)?;
    let windows = prepared.windows(dcfg, &shape, &d.name, &mut metrics);
    let mut graphs = stage_graphs(&shape)?;
    dump_if_asked(&graphs, ctx.stem)?;
    let (split, span) = prepared.splits(windows.as_ref(), &shape, s.seed)?;
    let started = std::time::Instant::now();
    let tags = match dcfg.task.target() {
        Target::Tags => Some(TagScoring {
            names: &label_names,
            seq: shape.seq,
            row_examples: windows.as_ref().and_then(|w| w.row_examples(2)),
        }),
        Target::Class | Target::Answer => None,
    };
    let run = Training {
        stage: s,
        ctx,
        shape: &shape,
        protocol,
        classes,
        tags,
        span,
        max_answer_tokens: dcfg.max_answer_tokens,
    };
    let model = if shape.features_only {
        run.extract_and_probe(&mut graphs, &split, &mut metrics, Phase::Final)?
    } else {
        // lp-ft: the linear probe first; its head starts the fine-tuning.
        let start = shape
            .probe_first
            .then(|| run.extract_and_probe(&mut graphs, &split, &mut metrics, Phase::Probe))
            .transpose()?;
        run.train_end_to_end(&mut graphs, &split, &mut metrics, start)?
    };
    metrics.insert("train_seconds".into(), started.elapsed().as_secs_f64());
    metrics.insert("train_examples".into(), n_train as f64);
    let head = SavedHead {
        task: dcfg.task,
        pooling: dcfg.pooling,
        seq_len: shape.seq,
        labels: label_names,
    };
    save_downstream_model(
        ctx.dir,
        &model,
        &head,
        &s.tokenizer_dir.join(files::TOKENIZER),
    )?;
    Ok(metrics)
}
