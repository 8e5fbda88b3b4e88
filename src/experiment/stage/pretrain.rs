//! The pretraining stage: an encoder trained on a corpus (mlm, clm, nsp, sop) or a labelled
//! dataset (classify), or imported; writes `params.safetensors` (encoder and embeddings only,
//! the head is dropped).

use super::graphs::{GraphShape, Role, Upstream, dump_if_asked, pretrain_shape, stage_graphs};
use super::inputs::{documents_of, feeds_of, hold_out, record_filter, texts_of};
use super::transfer::only_encoder;
use super::vectors::STATIC_WORD;
use super::{Metrics, StageContext, files};
use crate::config::{EmbeddingsConfig, EncoderConfig, PretrainConfig, PretrainTask};
use crate::data::{self, BatchConfig, Batcher, Item, Labels, MlmConfig, Tok, derive_seed};
use crate::experiment::convert::optim_spec;
use crate::experiment::imports;
use crate::experiment::plan::{DataSource, NamedData};
use crate::graph::Tensor;
use crate::model::Input;
use crate::model::{Head, PretrainHead};
use crate::runtime;
use crate::train::{self, StepInputs, StepLoop, Trainer};
use anyhow::{Result, bail};
use std::path::Path;

/// A pretraining stage's configuration and the folders of the stages it reads.
pub struct PretrainStage<'a> {
    pub pretrain: &'a PretrainConfig,
    pub encoder: &'a EncoderConfig,
    pub embeddings: &'a EmbeddingsConfig,
    pub data: &'a NamedData,
    pub seed: u64,
    pub tokenizer_dir: &'a Path,
    /// The previous stage of a chain, whose parameters it starts from.
    pub previous: Option<&'a Path>,
}

/// The examples a pretraining task trains on, and its held-out ones when the data has a dev split.
struct Examples {
    train: Vec<Item>,
    /// Where each training row's documents start (`pack = "masked"` only).
    starts: Option<Vec<data::Starts>>,
    dev: Option<Vec<Item>>,
    classes: Option<usize>,
}

fn examples(s: &PretrainStage, tok: &Tok, metrics: &mut Metrics) -> Result<Examples> {
    let p = s.pretrain;
    let d = s.data;
    Ok(match p.task {
        PretrainTask::Mlm | PretrainTask::Clm => {
            let docs = documents_of(d, metrics)?
                .iter()
                .map(|lines| -> Result<Vec<Vec<u32>>> {
                    let mut ids = Vec::with_capacity(lines.len());
                    for l in lines {
                        ids.push(tok.encode(l)?);
                    }
                    ids.retain(|l| !l.is_empty());
                    Ok(ids)
                })
                .filter(|doc| doc.as_ref().map_or(true, |l| !l.is_empty()))
                .collect::<Result<Vec<_>>>()?;
            let rows = data::pack_rows(&docs, p.pack, p.seq_len.min(s.encoder.max_len))?;
            Examples {
                train: rows.items,
                starts: rows.starts,
                dev: None,
                classes: None,
            }
        }
        PretrainTask::Nsp | PretrainTask::Sop => {
            let texts = texts_of(d, metrics)?;
            let seqs: Vec<Vec<u32>> = texts
                .iter()
                .map(|t| tok.encode(t))
                .collect::<std::result::Result<Vec<_>, _>>()?
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect();
            let objective = match p.task {
                PretrainTask::Nsp => data::PairObjective::Nsp,
                _ => data::PairObjective::Sop,
            };
            Examples {
                train: data::sentence_pair_items(data::sentence_pairs(&seqs, objective, s.seed)?),
                starts: None,
                dev: None,
                classes: None,
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
            record_filter(metrics, &d.name, &report);
            let train = data::class_items(&ds.train, tok, &ds.labels)?;
            let dev = (!ds.dev.is_empty())
                .then(|| data::class_items(&ds.dev, tok, &ds.labels))
                .transpose()?;
            Examples {
                train,
                starts: None,
                dev,
                classes: Some(ds.labels.len()),
            }
        }
        PretrainTask::Import => bail!("an import stage does not train"),
    })
}

/// Pretrains (or imports) an encoder into `ctx.dir`.
pub fn pretrain(s: &PretrainStage, ctx: &StageContext) -> Result<Metrics> {
    let p = s.pretrain;
    if p.task == PretrainTask::Import {
        return imports::import_stage(p, ctx.dir);
    }
    let mut metrics = Metrics::new();
    let tok = Tok::load(&s.tokenizer_dir.join(files::TOKENIZER))?;
    // After an imported model the chain keeps its architecture (and passes it on).
    imports::inherit_import(s.previous, ctx.dir)?;
    let ex = examples(s, &tok, &mut metrics)?;
    if ex.train.is_empty() {
        bail!("'{}' has no text left to pretrain on", s.data.name);
    }
    let up = Upstream::new(
        tok.vocab_size(),
        s.previous,
        ex.classes,
        s.embeddings,
        ctx.vectors.is_some(),
    );
    let shape = pretrain_shape(p, s.encoder, s.embeddings, &up, s.seed)?;
    // Held out for the pretraining metrics on unseen text: the dataset's dev split for
    // `classify`, else every 50th example (at most 1,000), with its document starts.
    let (items, dev_items, starts, dev_starts) = match (ex.dev, ex.starts) {
        (Some(dev), starts) => (ex.train, dev, starts, None::<Vec<data::Starts>>),
        (None, None) => {
            let (train, dev) = hold_out(ex.train);
            (train, dev, None, None)
        }
        (None, Some(starts)) => {
            let (train, dev) = hold_out(ex.train.into_iter().zip(starts).collect());
            let (items, starts) = train.into_iter().unzip();
            let (dev_items, dev_starts) = dev.into_iter().unzip();
            (items, dev_items, Some(starts), Some(dev_starts))
        }
    };
    let mut graphs = stage_graphs(&shape)?;
    dump_if_asked(&graphs, ctx.stem)?;
    let (train_g, eval_g) = (graphs.take(Role::TrainStep)?, graphs.take(Role::Eval)?);
    let mut params = train::init_params(&train_g.params, s.seed)?;
    if let Some(v) = ctx.vectors {
        params.set(STATIC_WORD, v)?;
    }
    if let Some(prev) = s.previous {
        // The previous stage of a chain holds the encoder only; this stage's head starts fresh.
        let opts = runtime::LoadOptions {
            prefixes: vec!["embeddings".into(), "encoder".into()],
            ..Default::default()
        };
        runtime::load_params_into(&prev.join(files::PARAMS), &mut params, &opts)?;
    }
    let mut tr = Trainer::new(
        &train_g,
        Some(&eval_g),
        params,
        optim_spec(&p.optimizer, p.steps),
        &ctx.session_options(),
    )?;
    let batch_config = |shuffle| BatchConfig {
        batch_size: p.batch_size,
        seq_len: shape.seq,
        buckets: vec![],
        shuffle,
        seed: s.seed,
    };
    let batcher = Batcher::new(&items, batch_config(true))?;
    let padding = data::packing::padding_stats(&items, &batch_config(true))?;
    metrics.insert("pretrain_padding_share".into(), padding.share());
    let feeds_for =
        |batch: data::Batch, mask_seed: u64| feeds(&shape, p, batch, mask_seed, starts.as_deref());
    // The dev batches are fixed (masks included) so that every evaluation sees the same targets.
    let dev_batches: Vec<StepInputs> = if dev_items.is_empty() {
        Vec::new()
    } else {
        Batcher::new(&dev_items, batch_config(false))?
            .epoch(0)
            .enumerate()
            .map(|(i, b)| {
                let seed = derive_seed(s.seed, &[u64::MAX, i as u64]);
                feeds(&shape, p, b, seed, dev_starts.as_deref())
            })
            .collect::<Result<_>>()?
    };
    let result = train::run_steps(
        &mut tr,
        &batcher,
        &feeds_for,
        &StepLoop {
            steps: p.steps,
            seed: s.seed,
            checkpoint: &ctx.resume_dir.join(files::RESUME),
            dev: &dev_batches,
            progress: ctx.progress,
        },
    )?;
    // Real (non-padding) tokens per second, at an epoch's padding share; a resumed stage counts
    // only the steps it ran.
    let real_per_step =
        (padding.positions - padding.padded) as f64 / batcher.batches_per_epoch() as f64;
    if result.steps_run > 0 && result.step_seconds > 0.0 {
        metrics.insert(
            "pretrain_real_tokens_per_second".into(),
            real_per_step * result.steps_run as f64 / result.step_seconds,
        );
    }
    metrics.insert("pretrain_loss".into(), result.loss_ema);
    metrics.insert("pretrain_steps".into(), p.steps as f64);
    if let Some((loss, acc)) = result.dev {
        metrics.insert("pretrain_dev_loss".into(), loss);
        // Masked-token accuracy (mlm), next-token accuracy (clm), or the pair/class accuracy.
        metrics.insert("pretrain_dev_accuracy".into(), acc);
        if shape.head == Head::Pretrain(PretrainHead::Clm) {
            metrics.insert("pretrain_perplexity".into(), loss.exp());
        }
    }
    runtime::save_checkpoint(
        &ctx.dir.join(files::PARAMS),
        &only_encoder(&tr.params)?,
        None,
        &Default::default(),
    )?;
    Ok(metrics)
}

/// The graph inputs of one batch: masked tokens and their targets for MLM, next-token labels
/// for CLM, the batch's own labels otherwise; under `pack = "masked"` also the rows'
/// `position_ids` and `document_mask`, from `starts` (indexed as the batch's items).
fn feeds(
    shape: &GraphShape,
    p: &PretrainConfig,
    batch: data::Batch,
    mask_seed: u64,
    starts: Option<&[data::Starts]>,
) -> Result<StepInputs> {
    let (b, t) = (batch.batch_size, batch.seq_len);
    let segments = shape.spec.segment;
    let masked = match (shape.spec.masked_packing, starts) {
        (true, Some(starts)) => Some((data::masked_inputs(&batch, starts), starts)),
        (true, None) => bail!("a masked-packing graph needs its rows' document starts"),
        (false, _) => None,
    };
    let Head::Pretrain(head) = shape.head else {
        bail!("a pretraining stage has a pretraining head")
    };
    let mut f = match head {
        PretrainHead::Mlm { n_masked } => {
            let mlm = MlmConfig {
                prob: p.mask_prob,
                max_predictions: Some(n_masked),
                ..Default::default()
            };
            let masked = data::mask_tokens(&batch, shape.spec.vocab, &mlm, mask_seed)?;
            let mut f = feeds_of(
                data::Batch {
                    input_ids: masked.input_ids,
                    labels: Labels::None,
                    ..batch
                },
                segments,
            );
            f.set(
                Input::MlmPositions,
                Tensor::i64(vec![n_masked], masked.masked_positions),
            );
            f.set(
                Input::MlmLabels,
                Tensor::i64(vec![n_masked], masked.masked_labels),
            );
            f
        }
        PretrainHead::Clm => {
            let mut labels = data::causal_lm_labels(&batch);
            if let Some((_, starts)) = &masked {
                data::within_pieces(&mut labels, &batch, starts);
            }
            let mut f = feeds_of(batch, segments);
            f.set(Input::Labels, Tensor::i64(vec![b * t], labels));
            f
        }
        PretrainHead::Sequence { .. } => feeds_of(batch, segments),
    };
    if let Some((inputs, _)) = masked {
        f.set(
            Input::PositionIds,
            Tensor::i64(vec![b, t], inputs.position_ids),
        );
        f.set(
            Input::DocumentMask,
            Tensor::i64(vec![b, t, t], inputs.document_mask),
        );
    }
    Ok(f)
}
