//! The downstream stage: a task (classify, pair, tag) trained from scratch, on a frozen encoder,
//! or fine-tuned from a pretrained one, then tested once. The model it tested is saved in its
//! folder (see [`super::saved`]).

use super::graphs::{
    GraphShape, Protocol, StageGraphs, Upstream, downstream_shape, dump_if_asked, stage_graphs,
};
use super::layer_cka::layer_cka;
use super::layer_probe::{LayerFeatures, probe_each_layer};
use super::long::pool_host;
use super::prepared::Prepared;
use super::saved::{SavedHead, save_downstream_model};
use super::span::{SpanData, SpanSplit, exact_match_f1};
use super::transfer::{initial_params, subset, transferred};
use super::vectors::STATIC_WORD;
use super::{Metrics, StageContext, files};
use crate::config::{
    DownstreamConfig, DownstreamTask, EmbeddingsConfig, EncoderConfig, Transfer, WordEmbedding,
};
use crate::data::Tok;
use crate::experiment::convert::optim_spec;
use crate::experiment::plan::{DataSource, NamedData};
use crate::graph::Tensor;
use crate::metrics::argmax_rows;
use crate::model::{Head, WINDOW_MASK};
use crate::runtime::{self, Feeds, ParamStore};
use crate::train::{self, EpochLoop, Scoring, SplitScoreFn, StepInputs, TagScoring, Trainer};
use anyhow::{Result, bail};
use std::path::Path;

/// A downstream stage's configuration and the folders of the stages it reads.
pub struct DownstreamStage<'a> {
    pub downstream: &'a DownstreamConfig,
    pub encoder: &'a EncoderConfig,
    pub embeddings: &'a EmbeddingsConfig,
    pub data: &'a NamedData,
    pub seed: u64,
    pub tokenizer_dir: &'a Path,
    /// The last pretraining stage of `from` (none for scratch).
    pub pretrained: Option<&'a Path>,
    /// Whether that stage trained a causal LM (attention stays causal).
    pub causal: bool,
}

fn labels_of(batch: &StepInputs) -> &[i64] {
    batch
        .iter()
        .find(|(n, _)| n == "labels")
        .and_then(|(_, t)| t.as_i64())
        .unwrap_or(&[])
}

/// Appends (gold, predicted) pairs of a batch from its logits.
fn eval_pairs(logits: &Tensor, batch: &StepInputs, out: &mut Vec<(i64, i64)>) {
    let width = logits.shape.last().copied().unwrap_or(1);
    let pred = argmax_rows(logits.as_f32().unwrap_or(&[]), width);
    for (g, p) in labels_of(batch).iter().zip(pred) {
        out.push((*g, p));
    }
}

/// The inputs of the encoder (the rest of a batch belongs to the head).
const ENCODER_INPUTS: [&str; 3] = ["input_ids", "attention_mask", "token_type_ids"];

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
        // The span head's two outputs per token, as exported.
        Prepared::Span(sd) => (
            sd.train.rows.len(),
            sd.test.rows.len(),
            vec!["start".to_string(), "end".to_string()],
        ),
    };
    let classes = label_names.len();
    if n_train == 0 || n_test == 0 {
        bail!(
            "dataset '{}' needs train and test examples (train {n_train}, test {n_test})",
            d.name,
        );
    }
    let up = Upstream {
        vocab: tok.vocab_size(),
        previous: s.pretrained,
        classes: Some(classes),
        static_vectors: ctx.vectors.is_some() && s.embeddings.word == WordEmbedding::Static,
    };
    let (shape, protocol) = downstream_shape(dcfg, s.encoder, s.embeddings, &up, s.causal, s.seed)?;
    let windows = prepared.windows(dcfg, &shape, &d.name, &mut metrics);
    let mut graphs = stage_graphs(&shape)?;
    dump_if_asked(&graphs, ctx.stem)?;
    let (split, span) = prepared.splits(windows.as_ref(), &shape, s.seed)?;
    let started = std::time::Instant::now();
    let tags = (dcfg.task == DownstreamTask::Tag).then(|| TagScoring {
        names: &label_names,
        seq: shape.seq,
        row_examples: windows.as_ref().and_then(|w| w.row_examples(2)),
    });
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

/// Whether a linear probe is the stage's model (tested) or `lp-ft`'s first phase (not tested; its
/// metrics are named `probe_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    Final,
    Probe,
}

/// The fixed batches of the three splits.
pub(super) struct Splits {
    pub train: Vec<StepInputs>,
    pub dev: Vec<StepInputs>,
    pub test: Vec<StepInputs>,
}

/// One downstream training, either protocol.
pub(super) struct Training<'a> {
    pub stage: &'a DownstreamStage<'a>,
    pub ctx: &'a StageContext<'a>,
    pub shape: &'a GraphShape,
    pub protocol: Protocol,
    pub classes: usize,
    /// How a tagging task's test spans are read.
    pub tags: Option<TagScoring<'a>>,
    /// The windows and examples of an extractive QA task (scored by exact match and F1).
    span: Option<&'a SpanData>,
    max_answer_tokens: usize,
}

impl Training<'_> {
    fn rng(&self) -> rand_chacha::ChaCha8Rng {
        <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(self.stage.seed)
    }

    pub(super) fn scoring<'s>(&self, dev_em: Option<&'s SplitScoreFn<'s>>) -> Scoring<'s> {
        Scoring {
            pairs_of: &eval_pairs,
            classes: self.classes,
            split_score: dev_em.map(|f| ("exact_match", f)),
        }
    }

    /// A span task's exact match and F1 on a split's batches, and its mean loss.
    fn span_scores(
        &self,
        tr: &mut Trainer,
        split: &SpanSplit,
        batches: &[StepInputs],
    ) -> Result<(f64, f64, f64)> {
        let mut logits = Vec::with_capacity(batches.len());
        let mut loss = 0.0;
        for b in batches {
            let (l, t) = tr.evaluate(b)?;
            loss += l;
            logits.push(t);
        }
        let (em, f1) = exact_match_f1(split, &logits, self.max_answer_tokens);
        Ok((em, f1, loss / batches.len().max(1) as f64))
    }

    /// Trains with early stopping and leaves the best dev epoch's parameters in `tr` (also
    /// returned); its figures go to `metrics` as `{prefix}train_loss` and `{prefix}dev_accuracy`.
    /// With `checkpoint`, the loop checkpoints there and resumes from it (see
    /// [`train::fit_epochs`]).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn fit(
        &self,
        tr: &mut Trainer,
        train_b: &[StepInputs],
        dev_b: &[StepInputs],
        schedule: &DownstreamConfig,
        metrics: &mut Metrics,
        prefix: &str,
        checkpoint: Option<&Path>,
    ) -> Result<ParamStore> {
        let epochs = EpochLoop {
            epochs: schedule.epochs,
            patience: schedule.patience,
            checkpoint,
        };
        let max = self.max_answer_tokens;
        let dev_em = |l: &[Tensor]| {
            self.span
                .map_or(f64::NAN, |s| exact_match_f1(&s.dev, l, max).0)
        };
        let dev_em: Option<&SplitScoreFn> = self.span.is_some().then_some(&dev_em);
        let fitted = train::fit_epochs(
            tr,
            train_b,
            dev_b,
            epochs,
            &mut self.rng(),
            self.ctx.progress,
            &self.scoring(dev_em),
        )?;
        metrics.insert(format!("{prefix}train_loss"), fitted.train_loss);
        if let Some(acc) = fitted.dev_accuracy {
            let name = if self.span.is_some() {
                "dev_exact_match"
            } else {
                "dev_accuracy"
            };
            metrics.insert(format!("{prefix}{name}"), acc);
        }
        tr.params = fitted.params.clone();
        Ok(fitted.params)
    }

    /// Tests the parameters in `tr` once (a span task also reports its dev F1 with them).
    pub(super) fn test(
        &self,
        tr: &mut Trainer,
        dev_b: &[StepInputs],
        test_b: &[StepInputs],
        metrics: &mut Metrics,
    ) -> Result<()> {
        if let Some(sd) = self.span {
            if !dev_b.is_empty() {
                let (_, f1, _) = self.span_scores(tr, &sd.dev, dev_b)?;
                metrics.insert("dev_f1".into(), f1);
            }
            let (em, f1, loss) = self.span_scores(tr, &sd.test, test_b)?;
            metrics.insert("test_exact_match".into(), em);
            metrics.insert("test_f1".into(), f1);
            metrics.insert("test_loss".into(), loss);
            return Ok(());
        }
        let scores = train::test_scores(tr, test_b, &self.scoring(None), self.tags)?;
        metrics.insert("test_accuracy".into(), scores.accuracy);
        metrics.insert("test_macro_f1".into(), scores.macro_f1);
        metrics.insert("test_loss".into(), scores.loss);
        if let Some(spans) = scores.spans {
            let (p, r, f) = spans.precision_recall_f1();
            metrics.insert("test_span_f1".into(), f);
            metrics.insert("test_span_precision".into(), p);
            metrics.insert("test_span_recall".into(), r);
        }
        Ok(())
    }

    /// Feature extraction: the encoder runs once per example; only a linear head trains.
    /// Returns the model tested: the pretrained encoder and the trained head. Not checkpointed:
    /// a killed stage recomputes it (it is fast), and lp-ft's probe phase reruns before its
    /// fine-tuning resumes.
    fn extract_and_probe(
        &self,
        graphs: &mut StageGraphs,
        split: &Splits,
        metrics: &mut Metrics,
        phase: Phase,
    ) -> Result<ParamStore> {
        let (s, shape) = (self.stage, self.shape);
        let feats_g = graphs.take("features");
        let opts = self.ctx.session_options();
        let mut enc_params = train::init_params(&feats_g.params, s.seed)?;
        // Without a pretraining (the `probe_layers` random-encoder control) the encoder stays
        // at its seed's initialisation, which, as for scratch, holds the static word vectors.
        if let Some(pretrained) = s.pretrained {
            runtime::load_params_into(
                &pretrained.join(files::PARAMS),
                &mut enc_params,
                &runtime::LoadOptions::default(),
            )?;
        } else if let Some(v) = self.ctx.vectors {
            enc_params.set(STATIC_WORD, v)?;
        }
        let before = enc_params.checksum();
        let mut sess = train::session(&feats_g, &opts)?;
        let rows = match shape.head {
            Head::Tag { .. } | Head::Span => shape.batch * shape.seq,
            Head::Classify { .. } | Head::Mlm { .. } | Head::Clm => shape.batch,
        };
        let depth = shape.spec.depth;
        // Per-layer probes belong to feature extraction; lp-ft's probe phase has none.
        let probed: &[usize] = match phase {
            Phase::Final => &shape.probe_layers,
            Phase::Probe => &[],
        };
        let mut per_layer = LayerFeatures::new(probed, depth);
        let mut featurize = |bs: &[StepInputs], at: usize| -> Result<Vec<StepInputs>> {
            let mut out = Vec::new();
            for batch in bs {
                let mut feeds = Feeds::new();
                for (n, t) in batch
                    .iter()
                    .filter(|(n, _)| ENCODER_INPUTS.contains(&n.as_str()))
                {
                    feeds.tensor(n.clone(), t);
                }
                feeds.params(&enc_params);
                let o = sess.run(&feeds)?;
                per_layer.collect(at, &o, batch, rows, shape.spec.d_model)?;
                let f = o.tensor("features")?;
                let mut values = f.as_f32().unwrap_or(&[]).to_vec();
                // Windows of long examples pool into their example, as in the whole model.
                let mask = batch.iter().find(|(n, _)| n == WINDOW_MASK);
                if let Some(m) = mask.and_then(|(_, t)| t.as_f32()) {
                    let pool = s.downstream.window_pool;
                    values = pool_host(&values, m, shape.spec.d_model, pool);
                }
                let mut head_inputs = vec![(
                    "features".to_string(),
                    Tensor::f32(vec![rows, shape.spec.d_model], values),
                )];
                // The head's own inputs: labels, and a span task's span_mask.
                head_inputs.extend(
                    batch
                        .iter()
                        .filter(|(n, _)| !ENCODER_INPUTS.contains(&n.as_str()) && n != WINDOW_MASK)
                        .cloned(),
                );
                if !head_inputs.iter().any(|(n, _)| n == "labels") {
                    bail!("batch without labels");
                }
                out.push(head_inputs);
            }
            Ok(out)
        };
        let (ftrain, fdev, ftest) = (
            featurize(&split.train, 0)?,
            featurize(&split.dev, 1)?,
            featurize(&split.test, 2)?,
        );
        let (hg, he) = (graphs.take("head_train_step"), graphs.take("head_eval"));
        let params = train::init_params(&hg.params, s.seed)?;
        let probe = s.downstream.with_probe();
        let steps = split.train.len() as u64 * probe.epochs as u64;
        let mut tr = Trainer::new(
            &hg,
            Some(&he),
            params,
            optim_spec(&probe.optimizer, steps),
            &opts,
        )?;
        let head = match phase {
            Phase::Final => {
                let head = self.fit(&mut tr, &ftrain, &fdev, &probe, metrics, "", None)?;
                self.test(&mut tr, &fdev, &ftest, metrics)?;
                metrics.insert(
                    "encoder_checksum_unchanged".into(),
                    (before == enc_params.checksum()) as u8 as f64,
                );
                probe_each_layer(self, &per_layer, (&hg, &he), &probe, metrics)?;
                head
            }
            Phase::Probe => self.fit(&mut tr, &ftrain, &fdev, &probe, metrics, "probe_", None)?,
        };
        for p in head.iter() {
            enc_params.insert(p.name, p.shape, p.data)?;
        }
        Ok(enc_params)
    }

    /// Scratch, fine-tuning, lp-ft's second phase (from `start`, the probe's model) or a frozen
    /// prefix of layers: the whole model's graphs train, checkpointing into the stage's resume
    /// folder (a killed stage resumes there). Returns the model tested (the best dev epoch's
    /// parameters).
    fn train_end_to_end(
        &self,
        graphs: &mut StageGraphs,
        split: &Splits,
        metrics: &mut Metrics,
        start: Option<ParamStore>,
    ) -> Result<ParamStore> {
        let (s, dcfg) = (self.stage, self.stage.downstream);
        let Protocol {
            transfer,
            layers: k,
        } = self.protocol;
        let (tg, eg) = (graphs.take("train_step"), graphs.take("eval"));
        let checkpoint =
            (transfer != Transfer::Scratch).then(|| s.pretrained.map(|p| p.join(files::PARAMS)));
        let checkpoint = checkpoint.flatten();
        let (mut params, n) = initial_params(&tg.params, s.seed, checkpoint.as_deref(), k)?;
        if let (Some(v), None) = (self.ctx.vectors, &checkpoint) {
            params.set(STATIC_WORD, v)?;
        }
        // The starting encoder, for `probe_layers`' CKA against the trained one.
        let starting = (!self.shape.probe_layers.is_empty()).then(|| params.clone());
        if checkpoint.is_some() {
            metrics.insert("transferred_tensors".into(), n as f64);
        }
        let probed = start.is_some();
        if let Some(start) = start {
            // The probe's model: the same encoder, and the head it trained.
            for p in start.iter() {
                params.set(p.name, p.data)?;
            }
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
        let total_steps = split.train.len() as u64 * dcfg.epochs as u64;
        let mut spec = optim_spec(&dcfg.optimizer, total_steps);
        spec.scales = train::LrScales {
            encoder: dcfg.encoder_lr.map_or(1.0, |lr| lr / dcfg.optimizer.lr),
            layer_decay: dcfg.layer_decay,
            depth: self.shape.spec.depth,
        };
        let mut tr = Trainer::new(&tg, Some(&eg), params, spec, &self.ctx.session_options())?;
        if probed && !split.dev.is_empty() && self.span.is_none() {
            // Where fine-tuning starts: the probe's dev accuracy, seen through the whole model.
            let start = train::test_scores(&mut tr, &split.dev, &self.scoring(None), None)?;
            metrics.insert("start_dev_accuracy".into(), start.accuracy);
        }
        let resume = self.ctx.resume_dir.join(files::RESUME);
        let best = self.fit(
            &mut tr,
            &split.train,
            &split.dev,
            dcfg,
            metrics,
            "",
            Some(&resume),
        )?;
        self.test(&mut tr, &split.dev, &split.test, metrics)?;
        if let Some(starting) = &starting {
            let lg = graphs.take("layer_features");
            layer_cka(self, &lg, starting, &best, &split.dev, metrics)?;
        }
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
        Ok(best)
    }
}
