//! End-to-end training (scratch, fine-tuning, `lp-ft`'s second phase, a frozen prefix of
//! layers): the whole model's graphs train with checkpoints to resume from; `probe_layers`' CKA
//! follows (`cka.rs`).

use super::cka::layer_cka;
use super::prepared::Splits;
use super::training::Training;
use crate::config::Transfer;
use crate::experiment::convert::optim_spec;
use crate::experiment::stage::Metrics;
use crate::experiment::stage::files;
use crate::experiment::stage::graphs::{Protocol, Role, StageGraphs};
use crate::experiment::stage::transfer::{initial_params, subset, transferred};
use crate::experiment::stage::vectors::STATIC_WORD;
use crate::runtime::ParamStore;
use crate::train::{self, Trainer};
use anyhow::Result;

impl Training<'_> {
    /// prefix of layers: the whole model's graphs train, checkpointing into the stage's resume
    /// folder (a killed stage resumes there). Returns the model tested (the best dev epoch's
    /// parameters).
    pub(super) fn train_end_to_end(
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
        let (tg, eg) = (graphs.take(Role::TrainStep)?, graphs.take(Role::Eval)?);
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
            let lg = graphs.take(Role::LayerFeatures)?;
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
