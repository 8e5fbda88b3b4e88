//! Executing one stage of a plan: fit a tokenizer, pretrain an encoder, or train and test a
//! downstream task. Each stage writes its outputs into a directory the caller renames into
//! place when the stage completes, and returns its metrics.

use super::plan::{DataSource, NamedData};
use crate::config::{
    self, DownstreamConfig, DownstreamTask, EmbeddingsConfig, EncoderConfig, Layers,
    OptimizerConfig, PretrainConfig, PretrainTask, Transfer,
};
use crate::data::{self, BatchConfig, Batcher, Dataset, Item, Labels, MlmConfig, Tok, derive_seed};
use crate::graph::{DType, Tensor};
use crate::model::{self, EncoderSpec, Head, IGNORE_INDEX, Mode, Pooling};
use crate::runtime::{self, Feeds, ParamStore, SessionOptions};
use crate::train::{self, Batch, OptimSpec, OptimizerKind, Schedule, Trainer};
use anyhow::{Context, Result, bail};
use rand::seq::SliceRandom;
use std::collections::BTreeMap;
use std::path::Path;

/// Metrics of a stage, by name (`test_accuracy`, `pretrain_loss`, `data.kjv.kept`, ...).
pub type Metrics = BTreeMap<String, f64>;

/// What a stage reports while it trains.
pub trait Progress {
    /// Called with (step, total steps, last loss).
    fn step(&self, step: u64, total: u64, loss: f64);
    /// A point of a learning curve (`train`/`dev`, metric name, optimizer step, value).
    fn point(&self, _split: &str, _metric: &str, _step: u64, _value: f64) {}
}

/// Every how many steps a training loss goes into the learning curve (about 200 points).
fn curve_every(total: u64) -> u64 {
    (total / 200).max(1)
}

/// File names inside a stage directory.
pub const TOKENIZER_FILE: &str = "tokenizer.json";
pub const PARAMS_FILE: &str = "params.safetensors";
pub const METRICS_FILE: &str = "metrics.json";
pub const CURVES_FILE: &str = "curves.csv";
/// The periodic checkpoint of a pretraining stage in progress (parameters, optimizer state, step).
pub const RESUME_FILE: &str = "resume.safetensors";

/// Every how many steps a pretraining stage checkpoints (about 10 per stage, at least 100 steps apart).
fn checkpoint_every(total: u64) -> u64 {
    (total / 10).max(100)
}
pub const VECTORS_FILE: &str = "vectors.safetensors";

/// The word-embedding table that `embeddings.word = "static"` fills with upstream vectors and
/// keeps fixed.
pub const STATIC_WORD: &str = "embeddings.word";

/// Static word vectors of dimension `dim` for a tokenizer: trained (skip-gram with negative
/// sampling) on the texts the tokenizer was fitted on and written to `dir`, or read from it when
/// already there. Returns the `[vocab, dim]` table.
pub fn static_vectors(
    tokenizer_dir: &Path,
    fit_on: &[NamedData],
    dim: usize,
    dir: &Path,
    threads: Option<usize>,
) -> Result<Vec<f32>> {
    let path = dir.join(VECTORS_FILE);
    if path.exists() {
        let ck = runtime::load_checkpoint(&path)?;
        return Ok(ck
            .params
            .get(model::IN_VECTORS)
            .context("vectors file without word2vec.in")?
            .to_vec());
    }
    let tok = Tok::load(&tokenizer_dir.join(TOKENIZER_FILE))?;
    let mut texts = Vec::new();
    for d in fit_on {
        texts.extend(texts_of(d, &mut Metrics::new())?);
    }
    let seqs = texts
        .iter()
        .map(|t| tok.encode(t))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let spec = super::vectors::VectorsSpec::new(dim, 1);
    let (v, loss) =
        super::vectors::train_vectors(&seqs, tok.vocab_size(), &spec, thread_count(threads))?;
    let mut store = ParamStore::new();
    store.insert(model::IN_VECTORS, &[tok.vocab_size(), dim], &v)?;
    let mut meta = runtime::Metadata::new();
    meta.insert("skipgram_loss".into(), serde_json::json!(loss));
    std::fs::create_dir_all(dir)?;
    runtime::save_checkpoint(&path, &store, None, &meta)?;
    Ok(v)
}

pub fn encoder_spec(
    enc: &EncoderConfig,
    emb: &EmbeddingsConfig,
    vocab: usize,
    causal: bool,
) -> EncoderSpec {
    EncoderSpec {
        vocab,
        d_model: enc.d_model,
        heads: enc.heads,
        ffn: enc.ffn,
        depth: enc.depth,
        max_len: enc.max_len,
        dropout: enc.dropout,
        activation: match enc.activation {
            config::Activation::Gelu => model::Activation::Gelu,
            config::Activation::Relu => model::Activation::Relu,
        },
        norm: match enc.norm {
            config::NormPlacement::Post => model::NormPlacement::Post,
            config::NormPlacement::Pre => model::NormPlacement::Pre,
        },
        word: match emb.word {
            config::WordEmbedding::None => model::WordEmbedding::None,
            _ => model::WordEmbedding::Learned,
        },
        position: match emb.position {
            config::PositionEmbedding::Learned => model::PositionEmbedding::Learned,
            config::PositionEmbedding::Sinusoidal => model::PositionEmbedding::Sinusoidal,
            config::PositionEmbedding::None => model::PositionEmbedding::None,
        },
        segment: emb.segment,
        causal,
        ln_eps: 1e-12,
        tie_output: true,
    }
}

pub fn optim_spec(o: &OptimizerConfig, total_steps: u64) -> OptimSpec {
    let mut s = OptimSpec::adamw(o.lr, total_steps);
    s.kind = match o.kind {
        config::OptimizerKind::Adamw => OptimizerKind::AdamW,
        config::OptimizerKind::Sgd => OptimizerKind::Sgd,
    };
    s.warmup = o.warmup;
    s.weight_decay = o.weight_decay;
    s.momentum = o.momentum;
    s.clip_norm = o.clip_norm;
    s.schedule = match o.schedule {
        config::Schedule::Linear => Schedule::Linear,
        config::Schedule::Cosine => Schedule::Cosine,
        config::Schedule::Constant => Schedule::Constant,
    };
    s
}

fn record_filter(metrics: &mut Metrics, name: &str, report: &data::FilterReport) {
    metrics.insert(format!("data.{name}.kept"), report.kept as f64);
    for (f, n) in &report.removed {
        metrics.insert(format!("data.{name}.removed.{f}"), *n as f64);
    }
}

/// Texts of a corpus, or the train texts (both sides of pairs) of a dataset.
fn texts_of(d: &NamedData, metrics: &mut Metrics) -> Result<Vec<String>> {
    Ok(match &d.source {
        DataSource::Corpus(c) => {
            let (lines, report) = data::load_corpus(c, Path::new(""))?;
            record_filter(metrics, &d.name, &report);
            lines
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

/// Fits the tokenizer on the named corpora and datasets; writes `tokenizer.json`.
pub fn tokenizer_stage(
    cfg: &config::TokenizerConfig,
    fit_on: &[NamedData],
    dir: &Path,
) -> Result<Metrics> {
    let mut metrics = Metrics::new();
    let tok = if cfg.kind == config::TokenizerKind::File {
        let path = cfg
            .path
            .as_ref()
            .context("tokenizer.kind = \"file\" needs tokenizer.path")?;
        Tok::load(path)?
    } else {
        let mut texts = Vec::new();
        for d in fit_on {
            texts.extend(texts_of(d, &mut metrics)?);
        }
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let tok = data::fit(cfg, &refs)?;
        let stats = tok.stats(&refs)?;
        metrics.insert("tokenizer.unk_rate".into(), stats.unk_rate);
        metrics.insert("tokenizer.avg_tokens".into(), stats.avg_len);
        tok
    };
    metrics.insert("tokenizer.vocab_size".into(), tok.vocab_size() as f64);
    tok.save(&dir.join(TOKENIZER_FILE))?;
    Ok(metrics)
}

/// Intra-op threads: the experiment's `threads`, else every core the process may use.
pub fn thread_count(threads: Option<usize>) -> usize {
    threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    })
}

fn session_options(threads: Option<usize>) -> SessionOptions {
    SessionOptions {
        intra_threads: Some(thread_count(threads)),
        ..Default::default()
    }
}

/// Pretrains an encoder (masked LM) on a corpus; writes `params.safetensors` (encoder and
/// embeddings only, the head is dropped).
pub fn pretrain_stage(
    p: &PretrainConfig,
    enc: &EncoderConfig,
    emb: &EmbeddingsConfig,
    d: &NamedData,
    seed: u64,
    tokenizer_dir: &Path,
    previous: Option<&Path>,
    vectors: Option<&[f32]>,
    dir: &Path,
    resume_dir: &Path,
    threads: Option<usize>,
    progress: &dyn Progress,
) -> Result<Metrics> {
    if p.task == PretrainTask::Import {
        return super::imports::import_stage(p, dir);
    }
    let mut metrics = Metrics::new();
    let tok = Tok::load(&tokenizer_dir.join(TOKENIZER_FILE))?;
    let seq = p.seq_len.min(enc.max_len);
    let causal = p.task == PretrainTask::Clm;
    // After an imported model the chain keeps its architecture (and passes it on).
    super::imports::inherit_import(previous, dir)?;
    let spec = super::imports::imported_spec(previous, enc.dropout, causal)?
        .unwrap_or_else(|| encoder_spec(enc, emb, tok.vocab_size(), causal));
    let spec = EncoderSpec {
        tie_output: p.tie_output,
        ..spec
    };
    // The examples of the task, and its head.
    let (items, dev_items, head): (Vec<Item>, Option<Vec<Item>>, Head) = match p.task {
        PretrainTask::Mlm | PretrainTask::Clm | PretrainTask::Nsp | PretrainTask::Sop => {
            let texts = texts_of(d, &mut metrics)?;
            let seqs: Vec<Vec<u32>> = texts
                .iter()
                .map(|t| tok.encode(t))
                .collect::<std::result::Result<Vec<_>, _>>()?
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
            match p.task {
                PretrainTask::Nsp | PretrainTask::Sop => {
                    let objective = if p.task == PretrainTask::Nsp {
                        data::PairObjective::Nsp
                    } else {
                        data::PairObjective::Sop
                    };
                    let pairs = data::sentence_pairs(&seqs, objective, seed)?;
                    (
                        data::sentence_pair_items(pairs),
                        None,
                        Head::Classify {
                            classes: 2,
                            pooling: Pooling::Cls,
                        },
                    )
                }
                PretrainTask::Clm => (
                    seqs.into_iter()
                        .map(|a| Item {
                            a,
                            b: None,
                            target: data::Target::None,
                        })
                        .collect(),
                    None,
                    Head::Clm,
                ),
                _ => {
                    let slots = MlmConfig {
                        prob: p.mask_prob,
                        ..Default::default()
                    }
                    .max_predictions_for(p.batch_size, seq);
                    (
                        seqs.into_iter()
                            .map(|a| Item {
                                a,
                                b: None,
                                target: data::Target::None,
                            })
                            .collect(),
                        None,
                        Head::Mlm { n_masked: slots },
                    )
                }
            }
        }
        PretrainTask::Classify => {
            let DataSource::Dataset(dc) = &d.source else {
                bail!(
                    "pretraining task classify needs a dataset, '{}' is a corpus",
                    d.name
                )
            };
            let (ds, report) = data::load_dataset(dc, Path::new(""))?;
            record_filter(&mut metrics, &d.name, &report);
            let items = data::class_items(&ds.train, &tok, &ds.labels)?;
            let dev = (!ds.dev.is_empty())
                .then(|| data::class_items(&ds.dev, &tok, &ds.labels))
                .transpose()?;
            (
                items,
                dev,
                Head::Classify {
                    classes: ds.labels.len(),
                    pooling: Pooling::Cls,
                },
            )
        }
        PretrainTask::Import => bail!("an import stage does not train (handled above)"),
    };
    if items.is_empty() {
        bail!("'{}' has no text left to pretrain on", d.name);
    }
    // Held out for the pretraining metrics on unseen text: the dataset's dev split for
    // `classify`, else every 50th example (at most 1,000).
    let (items, dev_items) = match dev_items {
        Some(dev) => (items, dev),
        None => hold_out(items),
    };
    let mlm = match head {
        Head::Mlm { n_masked } => Some(MlmConfig {
            prob: p.mask_prob,
            max_predictions: Some(n_masked),
            ..Default::default()
        }),
        _ => None,
    };
    let frozen = if vectors.is_some() {
        vec![STATIC_WORD.to_string()]
    } else {
        vec![]
    };
    let train_g = model::task_graph(
        &spec,
        head,
        p.batch_size,
        seq,
        &Mode::Train {
            frozen_prefixes: frozen,
        },
        DType::F32,
        seed as i64,
    )?;
    let eval_g = model::task_graph(
        &spec,
        head,
        p.batch_size,
        seq,
        &Mode::Eval,
        DType::F32,
        seed as i64,
    )?;
    let mut params = train::init_params(&train_g.params, seed)?;
    if let Some(v) = vectors {
        params.set(STATIC_WORD, v)?;
    }
    if let Some(prev) = previous {
        // The previous stage of a chain holds the encoder only; this stage's head starts fresh.
        let opts = runtime::LoadOptions {
            prefixes: vec!["embeddings".into(), "encoder".into()],
            ..Default::default()
        };
        runtime::load_params_into(&prev.join(PARAMS_FILE), &mut params, &opts)?;
    }
    let mut tr = Trainer::new(
        &train_g,
        Some(&eval_g),
        params,
        optim_spec(&p.optimizer, p.steps),
        &session_options(threads),
    )?;
    let batcher = Batcher::new(
        &items,
        BatchConfig {
            batch_size: p.batch_size,
            seq_len: seq,
            buckets: vec![],
            shuffle: true,
            seed,
        },
    )?;
    let feeds_for = |batch: data::Batch, mask_seed: u64| -> Result<Batch> {
        let (b, t) = (batch.batch_size, batch.seq_len);
        Ok(match (&mlm, head) {
            (Some(mlm), Head::Mlm { n_masked }) => {
                let masked = data::mask_tokens(&batch, spec.vocab, mlm, mask_seed)?;
                let mut f = feeds_of(
                    data::Batch {
                        input_ids: masked.input_ids,
                        labels: Labels::None,
                        ..batch
                    },
                    spec.segment,
                );
                f.push((
                    "mlm_positions".to_string(),
                    Tensor::i64(vec![n_masked], masked.masked_positions),
                ));
                f.push((
                    "mlm_labels".to_string(),
                    Tensor::i64(vec![n_masked], masked.masked_labels),
                ));
                f
            }
            (_, Head::Clm) => {
                let labels = data::causal_lm_labels(&batch);
                let mut f = feeds_of(batch, spec.segment);
                f.push(("labels".to_string(), Tensor::i64(vec![b * t], labels)));
                f
            }
            _ => feeds_of(batch, spec.segment),
        })
    };
    // The dev batches are fixed (masks included) so that every evaluation sees the same targets.
    let dev_batches: Vec<Batch> = if dev_items.is_empty() {
        Vec::new()
    } else {
        let dev = Batcher::new(
            &dev_items,
            BatchConfig {
                batch_size: p.batch_size,
                seq_len: seq,
                buckets: vec![],
                shuffle: false,
                seed,
            },
        )?;
        dev.epoch(0)
            .enumerate()
            .map(|(i, b)| feeds_for(b, derive_seed(seed, &[u64::MAX, i as u64])))
            .collect::<Result<_>>()?
    };
    let mut ema = f64::NAN;
    // Resume from the last periodic checkpoint of an interrupted attempt, if there is one.
    let ckpt_path = resume_dir.join(RESUME_FILE);
    let mut resumed_at = 0;
    if ckpt_path.exists() {
        let ck = runtime::load_checkpoint(&ckpt_path)?;
        if let (Some(opt), Some(at)) = (ck.opt, ck.meta.get("step").and_then(|v| v.as_u64())) {
            tr.params = ck.params;
            tr.opt = opt;
            ema = ck
                .meta
                .get("loss_ema")
                .and_then(|v| v.as_f64())
                .unwrap_or(f64::NAN);
            resumed_at = at;
            eprintln!(
                "resuming from step {at} of {} ({})",
                p.steps,
                ckpt_path.display()
            );
        }
    }
    let every = checkpoint_every(p.steps);
    let mut step = 0;
    'epochs: for epoch in 0.. {
        for batch in batcher.epoch(epoch) {
            step += 1;
            if step > p.steps {
                break 'epochs;
            }
            if step <= resumed_at {
                continue; // the batch order and masks are seeded, so skipping replays them
            }
            let feeds = feeds_for(batch, derive_seed(seed, &[step]))?;
            let s = tr
                .step(&feeds)
                .with_context(|| format!("pretraining step {step}"))?;
            ema = if ema.is_nan() {
                s.loss
            } else {
                0.98 * ema + 0.02 * s.loss
            };
            progress.step(step, p.steps, s.loss);
            if step % curve_every(p.steps) == 0 {
                progress.point("train", "loss", step, s.loss);
            }
            if step % every == 0 && step < p.steps {
                if let Some((loss, acc)) = dev_loss_accuracy(&mut tr, &dev_batches)? {
                    progress.point("dev", "loss", step, loss);
                    progress.point("dev", "accuracy", step, acc);
                }
                let mut meta = runtime::Metadata::new();
                meta.insert("step".into(), serde_json::json!(step));
                meta.insert("loss_ema".into(), serde_json::json!(ema));
                runtime::save_checkpoint(&ckpt_path, &tr.params, Some(&tr.opt), &meta)?;
            }
        }
    }
    metrics.insert("pretrain_loss".into(), ema);
    metrics.insert("pretrain_steps".into(), p.steps as f64);
    if let Some((loss, acc)) = dev_loss_accuracy(&mut tr, &dev_batches)? {
        progress.point("dev", "loss", p.steps, loss);
        progress.point("dev", "accuracy", p.steps, acc);
        metrics.insert("pretrain_dev_loss".into(), loss);
        // Masked-token accuracy (mlm), next-token accuracy (clm), or the pair/class accuracy.
        metrics.insert("pretrain_dev_accuracy".into(), acc);
        if head == Head::Clm {
            metrics.insert("pretrain_perplexity".into(), loss.exp());
        }
    }
    let encoder_only = only_encoder(&tr.params)?;
    runtime::save_checkpoint(
        &dir.join(PARAMS_FILE),
        &encoder_only,
        None,
        &Default::default(),
    )?;
    Ok(metrics)
}

/// Splits off every 50th item (at most 1,000) as a dev set; corpora of fewer than 100 items keep
/// everything for training and get no dev metrics.
fn hold_out(items: Vec<Item>) -> (Vec<Item>, Vec<Item>) {
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

/// Token-weighted loss and accuracy of the evaluation graph over fixed dev batches; `None`
/// without any. Targets are `mlm_labels` for masked LM, else `labels`; IGNORE_INDEX is skipped.
fn dev_loss_accuracy(tr: &mut Trainer, batches: &[Batch]) -> Result<Option<(f64, f64)>> {
    let (mut loss, mut correct, mut total) = (0.0, 0usize, 0usize);
    for batch in batches {
        let (l, logits) = tr.evaluate(batch)?;
        let gold = batch
            .iter()
            .find(|(n, _)| n == "mlm_labels" || n == "labels")
            .context("dev batch without targets")?
            .1
            .as_i64()
            .context("targets are not int64")?;
        let pred = argmax_rows(&logits);
        let n = gold.iter().filter(|&&g| g != IGNORE_INDEX).count();
        correct += gold
            .iter()
            .zip(&pred)
            .filter(|(g, p)| **g != IGNORE_INDEX && *g == *p)
            .count();
        loss += l * n as f64;
        total += n;
    }
    Ok((total > 0).then(|| (loss / total as f64, correct as f64 / total as f64)))
}

/// Initial parameters of a downstream model: seeded random values, with the embeddings and the
/// first `k` encoder layers replaced by those of the `checkpoint` when there is one. Returns the
/// store and the number of tensors transferred.
pub fn initial_params(
    decls: &[model::ParamDecl],
    seed: u64,
    checkpoint: Option<&Path>,
    k: usize,
) -> Result<(ParamStore, usize)> {
    let mut params = train::init_params(decls, seed)?;
    let Some(path) = checkpoint else {
        return Ok((params, 0));
    };
    let mut sub = subset(&params, |n| transferred(n, k))?;
    // The checkpoint holds every layer; only the first k are wanted here.
    let opts = runtime::LoadOptions {
        allow_unused: true,
        ..Default::default()
    };
    runtime::load_params_into(path, &mut sub, &opts)?;
    for p in sub.iter() {
        params.set(p.name, p.data)?;
    }
    Ok((params, sub.len()))
}

/// A copy of the parameters whose names `keep` accepts.
fn subset(params: &ParamStore, keep: impl Fn(&str) -> bool) -> Result<ParamStore> {
    let mut s = ParamStore::new();
    for p in params.iter().filter(|p| keep(p.name)) {
        s.insert(p.name, p.shape, p.data)?;
    }
    Ok(s)
}

/// The embeddings and encoder parameters of a store (heads dropped).
fn only_encoder(params: &ParamStore) -> Result<ParamStore> {
    subset(params, |n| {
        n.starts_with("embeddings.") || n.starts_with("encoder.")
    })
}

/// Whether parameter `name` is transferred when the first `k` layers are.
pub fn transferred(name: &str, k: usize) -> bool {
    if name.starts_with("embeddings.") {
        return true;
    }
    match name
        .strip_prefix("encoder.layer")
        .and_then(|r| r.split('.').next())
        .and_then(|n| n.parse::<usize>().ok())
    {
        Some(l) => l < k,
        None => false,
    }
}

/// Converts a data batch into the graph's named inputs.
fn feeds_of(batch: data::Batch, segments: bool) -> Batch {
    let (b, t) = (batch.batch_size, batch.seq_len);
    let mut f = vec![
        (
            "input_ids".to_string(),
            Tensor::i64(vec![b, t], batch.input_ids),
        ),
        (
            "attention_mask".to_string(),
            Tensor::i64(vec![b, t], batch.attention_mask),
        ),
    ];
    if segments {
        f.push((
            "token_type_ids".to_string(),
            Tensor::i64(vec![b, t], batch.token_type_ids),
        ));
    }
    match batch.labels {
        Labels::Class(l) => f.push(("labels".to_string(), Tensor::i64(vec![b], l))),
        Labels::Tokens(l) => f.push(("labels".to_string(), Tensor::i64(vec![b * t], l))),
        Labels::None => {}
    }
    f
}

/// Tokenized train, dev and test items and the number of classes.
fn prepare(task: DownstreamTask, ds: &Dataset, tok: &Tok) -> Result<([Vec<Item>; 3], Vec<String>)> {
    type ToItems = fn(&[data::Example], &Tok, &[String]) -> data::error::Result<Vec<Item>>;
    let (labels, items): (Vec<String>, ToItems) = match task {
        DownstreamTask::Tag => {
            ds.check_tagging("downstream data")?;
            (ds.tag_labels(), data::tag_items)
        }
        DownstreamTask::Pair => {
            if ds.train.iter().any(|e| e.text_pair.is_none()) {
                bail!("a pair task needs a text_pair column");
            }
            (ds.labels.clone(), data::class_items)
        }
        DownstreamTask::Classify => (ds.labels.clone(), data::class_items),
    };
    let split = |xs: &[data::Example]| items(xs, tok, &labels);
    Ok((
        [split(&ds.train)?, split(&ds.dev)?, split(&ds.test)?],
        labels,
    ))
}

/// Accuracy and macro-F1 over (gold, predicted) pairs, ignoring IGNORE_INDEX gold labels.
pub fn accuracy_macro_f1(pairs: &[(i64, i64)], classes: usize) -> (f64, f64) {
    let pairs: Vec<_> = pairs.iter().filter(|(g, _)| *g != IGNORE_INDEX).collect();
    if pairs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let correct = pairs.iter().filter(|(g, p)| g == p).count();
    let (mut tp, mut fp, mut fn_) = (
        vec![0usize; classes],
        vec![0usize; classes],
        vec![0usize; classes],
    );
    for &&(g, p) in &pairs {
        if g == p {
            tp[g as usize] += 1;
        } else {
            fn_[g as usize] += 1;
            if (p as usize) < classes {
                fp[p as usize] += 1;
            }
        }
    }
    let mut f1s = Vec::new();
    for c in 0..classes {
        if tp[c] + fn_[c] == 0 {
            continue; // class absent from the gold labels
        }
        let denom = 2 * tp[c] + fp[c] + fn_[c];
        f1s.push(if denom == 0 {
            0.0
        } else {
            2.0 * tp[c] as f64 / denom as f64
        });
    }
    (
        correct as f64 / pairs.len() as f64,
        f1s.iter().sum::<f64>() / f1s.len().max(1) as f64,
    )
}

fn argmax_rows(logits: &Tensor) -> Vec<i64> {
    let c = *logits.shape.last().unwrap();
    logits
        .as_f32()
        .unwrap()
        .chunks(c)
        .map(|r| {
            r.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i as i64)
                .unwrap()
        })
        .collect()
}

fn labels_of(batch: &Batch) -> &[i64] {
    batch
        .iter()
        .find(|(n, _)| n == "labels")
        .unwrap()
        .1
        .as_i64()
        .unwrap()
}

/// Trains and tests a downstream task; returns its metrics. `causal` keeps the attention of an
/// encoder pretrained as a causal LM causal downstream too.
#[allow(clippy::too_many_arguments)]
pub fn downstream_stage(
    dcfg: &DownstreamConfig,
    enc: &EncoderConfig,
    emb: &EmbeddingsConfig,
    d: &NamedData,
    seed: u64,
    tokenizer_dir: &Path,
    pretrained: Option<&Path>,
    vectors: Option<&[f32]>,
    causal: bool,
    threads: Option<usize>,
    progress: &dyn Progress,
) -> Result<Metrics> {
    let mut metrics = Metrics::new();
    let DataSource::Dataset(dc) = &d.source else {
        bail!("downstream data '{}' must be a dataset", d.name)
    };
    let (ds, report) = data::load_dataset(dc, Path::new(""))?;
    record_filter(&mut metrics, &d.name, &report);
    let tok = Tok::load(&tokenizer_dir.join(TOKENIZER_FILE))?;
    // How the tokenizer fits this dataset, and labels a model cannot learn (absent from train).
    let texts = ds.train_texts();
    let stats = tok.stats(&texts)?;
    metrics.insert(format!("data.{}.unk_rate", d.name), stats.unk_rate);
    metrics.insert(format!("data.{}.avg_tokens", d.name), stats.avg_len);
    metrics.insert(
        format!("data.{}.unseen_labels", d.name),
        ds.unseen_labels.len() as f64,
    );
    if !ds.unseen_labels.is_empty() {
        eprintln!(
            "note: dataset '{}': labels only outside train (ignored in scores): {}",
            d.name,
            ds.unseen_labels.join(", ")
        );
    }
    let seq = dcfg.seq_len.min(enc.max_len);
    let ([train_items, dev_items, test_items], label_names) = prepare(dcfg.task, &ds, &tok)?;
    let classes = label_names.len();
    if train_items.is_empty() || test_items.is_empty() {
        bail!(
            "dataset '{}' needs train and test examples (train {}, test {})",
            d.name,
            train_items.len(),
            test_items.len()
        );
    }
    let spec = super::imports::imported_spec(pretrained, enc.dropout, causal)?
        .unwrap_or_else(|| encoder_spec(enc, emb, tok.vocab_size(), causal));
    let token_level = dcfg.task == DownstreamTask::Tag;
    let pooling = match dcfg.pooling {
        config::Pooling::Cls => Pooling::Cls,
        config::Pooling::Mean => Pooling::Mean,
    };
    let head = if token_level {
        Head::Tag { classes }
    } else {
        Head::Classify { classes, pooling }
    };
    let b = dcfg.batch_size;
    let batches = |items: &[Item], shuffle: bool, epoch: u64| -> Result<Vec<Batch>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let batcher = Batcher::new(
            items,
            BatchConfig {
                batch_size: b,
                seq_len: seq,
                buckets: vec![],
                shuffle,
                seed,
            },
        )?;
        Ok(batcher
            .epoch(epoch)
            .map(|x| feeds_of(x, spec.segment))
            .collect())
    };
    let (train_b, dev_b, test_b) = (
        batches(&train_items, false, 0)?,
        batches(&dev_items, false, 0)?,
        batches(&test_items, false, 0)?,
    );
    let k = match dcfg.layers {
        Layers::All => spec.depth,
        Layers::First(k) => k,
    };
    let transfer = if pretrained.is_none() {
        Transfer::Scratch
    } else {
        dcfg.transfer
    };
    let opts = session_options(threads);
    let steps_per_epoch = train_b.len() as u64;
    let total_steps = steps_per_epoch * dcfg.epochs as u64;
    let started = std::time::Instant::now();
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed);

    let eval_pairs = |logits: &Tensor, batch: &Batch, out: &mut Vec<(i64, i64)>| {
        for (g, p) in labels_of(batch).iter().zip(argmax_rows(logits)) {
            out.push((*g, p));
        }
    };

    if transfer == Transfer::Frozen && k == spec.depth {
        // Feature extraction: the encoder runs once per example; only the head trains.
        let feats_g =
            model::features_graph(&spec, b, seq, (!token_level).then_some(pooling), DType::F32)?;
        let mut enc_params = train::init_params(&feats_g.params, seed)?;
        runtime::load_params_into(
            &pretrained.unwrap().join(PARAMS_FILE),
            &mut enc_params,
            &runtime::LoadOptions::default(),
        )?;
        let before = enc_params.checksum();
        let mut sess = train::session(&feats_g, &opts)?;
        let mut featurize = |bs: &[Batch]| -> Result<Vec<Batch>> {
            let mut out = Vec::new();
            for batch in bs {
                let mut feeds = Feeds::new();
                for (n, t) in batch.iter().filter(|(n, _)| n != "labels") {
                    feeds.tensor(n.clone(), t);
                }
                feeds.params(&enc_params);
                let o = sess.run(&feeds)?;
                let f = o.tensor("features")?;
                let rows = if token_level { b * seq } else { b };
                let d_model = spec.d_model;
                out.push(vec![
                    (
                        "features".to_string(),
                        Tensor::f32(vec![rows, d_model], f.as_f32().unwrap().to_vec()),
                    ),
                    (
                        "labels".to_string(),
                        batch.iter().find(|(n, _)| n == "labels").unwrap().1.clone(),
                    ),
                ]);
            }
            Ok(out)
        };
        let (ftrain, fdev, ftest) = (
            featurize(&train_b)?,
            featurize(&dev_b)?,
            featurize(&test_b)?,
        );
        let rows = if token_level { b * seq } else { b };
        let hg = model::head_graph(
            spec.d_model,
            classes,
            rows,
            spec.dropout,
            &Mode::Train {
                frozen_prefixes: vec![],
            },
            DType::F32,
            seed as i64,
        )?;
        let he = model::head_graph(
            spec.d_model,
            classes,
            rows,
            spec.dropout,
            &Mode::Eval,
            DType::F32,
            seed as i64,
        )?;
        let params = train::init_params(&hg.params, seed)?;
        let probe = dcfg.with_probe();
        let mut tr = Trainer::new(
            &hg,
            Some(&he),
            params,
            optim_spec(&probe.optimizer, steps_per_epoch * probe.epochs as u64),
            &opts,
        )?;
        let best = fit_epochs(
            &mut tr,
            &ftrain,
            &fdev,
            &probe,
            &mut rng,
            progress,
            &eval_pairs,
            classes,
            &mut metrics,
        )?;
        tr.params = best;
        let tags = token_level.then_some((label_names.as_slice(), seq));
        test_metrics(&mut tr, &ftest, &eval_pairs, classes, tags, &mut metrics)?;
        metrics.insert(
            "encoder_checksum_unchanged".into(),
            (before == enc_params.checksum()) as u8 as f64,
        );
    } else {
        let mut frozen = Vec::new();
        if transfer == Transfer::Frozen {
            frozen.push("embeddings.".to_string());
            frozen.extend((0..k).map(|l| format!("encoder.layer{l}.")));
        }
        if dcfg.freeze == Some(config::Freeze::Embeddings) {
            frozen.push("embeddings.".to_string());
        }
        if vectors.is_some() {
            frozen.push(STATIC_WORD.to_string());
        }
        let tg = model::task_graph(
            &spec,
            head,
            b,
            seq,
            &Mode::Train {
                frozen_prefixes: frozen,
            },
            DType::F32,
            seed as i64,
        )?;
        let eg = model::task_graph(&spec, head, b, seq, &Mode::Eval, DType::F32, seed as i64)?;
        let checkpoint =
            (transfer != Transfer::Scratch).then(|| pretrained.unwrap().join(PARAMS_FILE));
        let (mut params, n) = initial_params(&tg.params, seed, checkpoint.as_deref(), k)?;
        if let (Some(v), None) = (vectors, &checkpoint) {
            params.set(STATIC_WORD, v)?;
        }
        if checkpoint.is_some() {
            metrics.insert("transferred_tensors".into(), n as f64);
        }
        // What must stay bit-identical: the transferred tensors of a frozen run, the embeddings
        // under freeze = "embeddings".
        let fixed = |n: &str| {
            if transfer == Transfer::Frozen {
                transferred(n, k)
            } else {
                n.starts_with("embeddings.")
            }
        };
        let frozen_checksum =
            |p: &ParamStore| -> Result<String> { Ok(subset(p, fixed)?.checksum()) };
        let before = frozen_checksum(&params)?;
        let mut tr = Trainer::new(
            &tg,
            Some(&eg),
            params,
            optim_spec(&dcfg.optimizer, total_steps),
            &opts,
        )?;
        let best = fit_epochs(
            &mut tr,
            &train_b,
            &dev_b,
            dcfg,
            &mut rng,
            progress,
            &eval_pairs,
            classes,
            &mut metrics,
        )?;
        if transfer == Transfer::Frozen {
            metrics.insert(
                "encoder_checksum_unchanged".into(),
                (before == frozen_checksum(&best)?) as u8 as f64,
            );
        } else if dcfg.freeze.is_some() {
            metrics.insert(
                "embeddings_checksum_unchanged".into(),
                (before == frozen_checksum(&best)?) as u8 as f64,
            );
        }
        tr.params = best;
        let tags = token_level.then_some((label_names.as_slice(), seq));
        test_metrics(&mut tr, &test_b, &eval_pairs, classes, tags, &mut metrics)?;
    }
    metrics.insert("train_seconds".into(), started.elapsed().as_secs_f64());
    metrics.insert("train_examples".into(), train_items.len() as f64);
    Ok(metrics)
}

type PairFn<'a> = dyn Fn(&Tensor, &Batch, &mut Vec<(i64, i64)>) + 'a;

/// Trains for the configured epochs with early stopping on dev accuracy; returns the best
/// parameters (those of the best dev epoch, or the last when there is no dev split).
#[allow(clippy::too_many_arguments)]
fn fit_epochs(
    tr: &mut Trainer,
    train_b: &[Batch],
    dev_b: &[Batch],
    dcfg: &DownstreamConfig,
    rng: &mut impl rand::Rng,
    progress: &dyn Progress,
    pairs_of: &PairFn<'_>,
    classes: usize,
    metrics: &mut Metrics,
) -> Result<ParamStore> {
    let total = train_b.len() as u64 * dcfg.epochs as u64;
    let mut best: Option<(f64, ParamStore)> = None;
    let mut since_best = 0;
    let mut order: Vec<usize> = (0..train_b.len()).collect();
    let mut last_loss = f64::NAN;
    for epoch in 0..dcfg.epochs {
        order.shuffle(rng);
        for &i in &order {
            let s = tr
                .step(&train_b[i])
                .with_context(|| format!("epoch {}", epoch + 1))?;
            last_loss = s.loss;
            progress.step(tr.opt.step, total, s.loss);
            if tr.opt.step.is_multiple_of(curve_every(total)) {
                progress.point("train", "loss", tr.opt.step, s.loss);
            }
        }
        if dev_b.is_empty() {
            continue;
        }
        let mut pairs = Vec::new();
        for batch in dev_b {
            let (_, logits) = tr.evaluate(batch)?;
            pairs_of(&logits, batch, &mut pairs);
        }
        let (acc, _) = accuracy_macro_f1(&pairs, classes);
        progress.point("dev", "accuracy", tr.opt.step, acc);
        if best.as_ref().is_none_or(|(b, _)| acc > *b) {
            best = Some((acc, tr.params.clone()));
            since_best = 0;
        } else {
            since_best += 1;
            if dcfg.patience > 0 && since_best >= dcfg.patience {
                break;
            }
        }
    }
    metrics.insert("train_loss".into(), last_loss);
    Ok(match best {
        Some((acc, p)) => {
            metrics.insert("dev_accuracy".into(), acc);
            p
        }
        None => tr.params.clone(),
    })
}

/// Test metrics: accuracy and macro-F1 over labels (tokens, for tagging), the loss, and for
/// tagging (`tags` = tag names and sequence length) span-level F1 with conlleval semantics.
fn test_metrics(
    tr: &mut Trainer,
    test_b: &[Batch],
    pairs_of: &PairFn<'_>,
    classes: usize,
    tags: Option<(&[String], usize)>,
    metrics: &mut Metrics,
) -> Result<()> {
    let mut pairs = Vec::new();
    let mut loss = 0.0;
    let (mut correct, mut predicted, mut gold) = (0, 0, 0);
    for batch in test_b {
        let (l, logits) = tr.evaluate(batch)?;
        loss += l;
        let from = pairs.len();
        pairs_of(&logits, batch, &mut pairs);
        if let Some((names, seq)) = tags {
            // Rows of `seq` positions; spans are read from the labelled positions of each row.
            for row in pairs[from..].chunks(seq) {
                let labelled: Vec<&(i64, i64)> =
                    row.iter().filter(|(g, _)| *g != IGNORE_INDEX).collect();
                let name = |i: i64| names.get(i as usize).map(String::as_str).unwrap_or("O");
                let g: Vec<&str> = labelled.iter().map(|(g, _)| name(*g)).collect();
                let p: Vec<&str> = labelled.iter().map(|(_, p)| name(*p)).collect();
                let (c, np, ng) = span_counts(&g, &p);
                correct += c;
                predicted += np;
                gold += ng;
            }
        }
    }
    let (acc, f1) = accuracy_macro_f1(&pairs, classes);
    metrics.insert("test_accuracy".into(), acc);
    metrics.insert("test_macro_f1".into(), f1);
    metrics.insert("test_loss".into(), loss / test_b.len() as f64);
    if tags.is_some() {
        let prec = if predicted == 0 {
            0.0
        } else {
            correct as f64 / predicted as f64
        };
        let rec = if gold == 0 {
            0.0
        } else {
            correct as f64 / gold as f64
        };
        let f = if prec + rec == 0.0 {
            0.0
        } else {
            2.0 * prec * rec / (prec + rec)
        };
        metrics.insert("test_span_f1".into(), f);
        metrics.insert("test_span_precision".into(), prec);
        metrics.insert("test_span_recall".into(), rec);
    }
    Ok(())
}

/// Chunks of a BIO tag sequence as (start, end exclusive, type), conlleval style: a chunk starts
/// at `B-X`, or at `I-X` after anything but a `B-X`/`I-X` of the same type.
pub fn bio_chunks(tags: &[&str]) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, &str)> = None;
    for (i, t) in tags.iter().enumerate() {
        let (prefix, kind) = t.split_once('-').unwrap_or((t, ""));
        let continues = prefix == "I" && open.is_some_and(|(_, k)| k == kind);
        if !continues {
            if let Some((start, k)) = open.take() {
                out.push((start, i, k.to_string()));
            }
            if prefix == "B" || prefix == "I" {
                open = Some((i, kind));
            }
        }
    }
    if let Some((start, k)) = open {
        out.push((start, tags.len(), k.to_string()));
    }
    out
}

/// (correctly predicted chunks, predicted chunks, gold chunks) of one sequence.
pub fn span_counts(gold: &[&str], pred: &[&str]) -> (usize, usize, usize) {
    let g = bio_chunks(gold);
    let p = bio_chunks(pred);
    let correct = p.iter().filter(|c| g.contains(c)).count();
    (correct, p.len(), g.len())
}

/// Writes the ONNX graphs of the stage `pretrain.NAME` or `downstream.NAME` of the plan's first
/// cell that has it (train_step, eval, encode), sized with the tokenizer's configured vocabulary.
pub fn write_stage_graphs(
    plan: &super::plan::Plan,
    stage: &str,
    out: &Path,
) -> Result<Vec<std::path::PathBuf>> {
    let (kind, name) = stage
        .split_once('.')
        .context("--stage must be pretrain.NAME or downstream.NAME")?;
    let e = plan
        .cells
        .iter()
        .map(|c| &c.experiment)
        .find(|e| match kind {
            "pretrain" => e.pretrain.contains_key(name),
            "downstream" => e.downstream.contains_key(name),
            _ => false,
        })
        .with_context(|| format!("no stage '{stage}' in the experiment"))?;
    let spec = encoder_spec(&e.encoder, &e.embeddings, e.tokenizer.vocab_size, false);
    let train_mode = Mode::Train {
        frozen_prefixes: vec![],
    };
    // The head, batch size and length of the stage; the graphs are built alike from them.
    let (head, batch, seq) = if kind == "pretrain" {
        let p = &e.pretrain[name];
        let seq = p.seq_len.min(spec.max_len);
        let mut mlm = MlmConfig {
            prob: p.mask_prob,
            ..Default::default()
        };
        mlm.max_predictions = Some(mlm.max_predictions_for(p.batch_size, seq));
        let head = Head::Mlm {
            n_masked: mlm.max_predictions.unwrap(),
        };
        (head, p.batch_size, seq)
    } else {
        let d = &e.downstream[name];
        let head = match d.task {
            DownstreamTask::Tag => Head::Tag { classes: 2 },
            _ => Head::Classify {
                classes: 2,
                pooling: Pooling::Cls,
            },
        };
        (head, d.batch_size, d.seq_len.min(spec.max_len))
    };
    let graphs = [
        (
            "train_step",
            model::task_graph(&spec, head, batch, seq, &train_mode, DType::F32, 1)?,
        ),
        (
            "eval",
            model::task_graph(&spec, head, batch, seq, &Mode::Eval, DType::F32, 1)?,
        ),
        (
            "encode",
            model::features_graph(&spec, batch, seq, None, DType::F32)?,
        ),
    ];
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let mut files = Vec::new();
    for (file, tg) in graphs {
        let path = out.join(format!("{}.{file}.onnx", stage.replace('.', "_")));
        std::fs::write(&path, crate::graph::to_onnx_bytes(&tg.graph)?)
            .with_context(|| format!("writing {}", path.display()))?;
        files.push(path);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_k_layers_and_embeddings_are_transferred() {
        assert!(transferred("embeddings.word", 1));
        assert!(transferred("encoder.layer0.attn.qkv.weight", 1));
        assert!(!transferred("encoder.layer1.attn.qkv.weight", 1));
        assert!(!transferred("encoder.layer10.ffn.up.bias", 2));
        assert!(!transferred("head.classifier.weight", 2));
    }

    #[test]
    fn spans_follow_conlleval() {
        let tags = [
            "B-PER", "I-PER", "O", "I-LOC", "I-LOC", "B-LOC", "I-PER", "O", "B-X",
        ];
        assert_eq!(
            bio_chunks(&tags),
            vec![
                (0, 2, "PER".into()),
                (3, 5, "LOC".into()),
                (5, 6, "LOC".into()),
                (6, 7, "PER".into()),
                (8, 9, "X".into())
            ]
        );
        // A wrong boundary makes the whole chunk wrong.
        let gold = ["B-PER", "I-PER", "O", "B-LOC"];
        let pred = ["B-PER", "O", "O", "B-LOC"];
        assert_eq!(span_counts(&gold, &pred), (1, 2, 2));
    }

    #[test]
    fn macro_f1_averages_over_gold_classes() {
        // class 0: tp 1, fn 1 -> f1 = 2/3; class 1: tp 1, fp 1 -> f1 = 2/3
        let (acc, f1) = accuracy_macro_f1(&[(0, 0), (0, 1), (1, 1), (IGNORE_INDEX, 0)], 2);
        assert!((acc - 2.0 / 3.0).abs() < 1e-12);
        assert!((f1 - 2.0 / 3.0).abs() < 1e-12);
    }
}
