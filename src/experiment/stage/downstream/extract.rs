//! Feature extraction (`frozen` with every layer, and `lp-ft`'s probe): the encoder runs once per
//! example, its features (and `probe_layers`' layers) are kept, and only a linear head trains on
//! them; the per-layer probes follow (`probes.rs`).

use super::long::pool_host;
use super::prepared::Splits;
use super::probes::{LayerFeatures, probe_each_layer};
use super::training::{Phase, Training};
use crate::experiment::convert::optim_spec;
use crate::experiment::stage::graphs::{Role, StageGraphs};
use crate::experiment::stage::transfer::subset;
use crate::experiment::stage::vectors::STATIC_WORD;
use crate::experiment::stage::{Metrics, files};
use crate::graph::Tensor;
use crate::model::{Head, Input};
use crate::runtime::{self, Feeds, ParamStore};
use crate::train::{self, StepInputs, Trainer};
use anyhow::{Result, bail};

impl Training<'_> {
    /// Feature extraction: the encoder runs once per example; only a linear head trains.
    /// Returns the model tested: the pretrained encoder and the trained head. Not checkpointed:
    /// a killed stage recomputes it (it is fast), and lp-ft's probe phase reruns before its
    /// fine-tuning resumes.
    pub(super) fn extract_and_probe(
        &self,
        graphs: &mut StageGraphs,
        split: &Splits,
        metrics: &mut Metrics,
        phase: Phase,
    ) -> Result<ParamStore> {
        let (s, shape) = (self.stage, self.shape);
        let feats_g = graphs.take(Role::Features)?;
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
        let before_names: Vec<String> = enc_params.iter().map(|p| p.name.to_string()).collect();
        let mut sess = train::session(&feats_g, &opts)?;
        let Head::Task(task_head) = shape.head else {
            bail!("feature extraction needs a downstream head")
        };
        let rows = task_head.feature_rows(shape.batch, shape.seq);
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
                batch.feed_into(&mut feeds, Input::feeds_encoder);
                feeds.params(&enc_params);
                let o = sess.run(&feeds)?;
                per_layer.collect(at, &o, batch, rows, shape.spec.d_model)?;
                let f = o.tensor("features")?;
                let mut values = f.as_f32().unwrap_or(&[]).to_vec();
                // Windows of long examples pool into their example, as in the whole model.
                if let Some(m) = batch.get(Input::WindowMask).and_then(|t| t.as_f32()) {
                    let pool = s.downstream.window_pool;
                    values = pool_host(&values, m, shape.spec.d_model, pool);
                }
                let features = Tensor::f32(vec![rows, shape.spec.d_model], values);
                // The head's own inputs: labels, and a span task's span_mask (the window
                // mask was applied above).
                let head_inputs: StepInputs = std::iter::once((Input::Features, features))
                    .chain(
                        batch
                            .iter()
                            .filter(|(i, _)| !i.feeds_encoder() && *i != Input::WindowMask)
                            .map(|(i, t)| (i, t.clone())),
                    )
                    .collect();
                head_inputs.labels()?;
                out.push(head_inputs);
            }
            Ok(out)
        };
        let (ftrain, fdev, ftest) = (
            featurize(&split.train, 0)?,
            featurize(&split.dev, 1)?,
            featurize(&split.test, 2)?,
        );
        let (hg, he) = (
            graphs.take(Role::HeadTrainStep)?,
            graphs.take(Role::HeadEval)?,
        );
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
                probe_each_layer(self, &per_layer, (&hg, &he), &probe, metrics)?;
                head
            }
            Phase::Probe => self.fit(&mut tr, &ftrain, &fdev, &probe, metrics, "probe_", None)?,
        };
        for p in head.iter() {
            enc_params.insert(p.name, p.shape, p.data)?;
        }
        if phase == Phase::Final {
            // The model tested and saved carries the encoder exactly as it was loaded: the
            // head's parameters were added beside it, none replaced.
            let encoder = subset(&enc_params, |n| before_names.iter().any(|b| b == n))?;
            metrics.insert(
                "encoder_checksum_unchanged".into(),
                (before == encoder.checksum()) as u8 as f64,
            );
        }
        Ok(enc_params)
    }
}
