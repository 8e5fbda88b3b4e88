//! `probe_layers` under feature extraction: one linear probe per layer, each trained on that
//! layer's features (from the same forward pass as the stage's own features) on the `probe`
//! schedule, from the same initialisation and data order as the stage's own probe, so the last
//! layer's probe repeats the stage's result. Metrics `layer<k>_*`.

use super::training::Training;
use crate::config::DownstreamConfig;
use crate::experiment::convert::optim_spec;
use crate::experiment::stage::Metrics;
use crate::graph::Tensor;
use crate::model::Input;
use crate::model::{TaskGraph, layer_output};
use crate::runtime::Outputs;
use crate::train::{self, StepInputs, Trainer};
use anyhow::{Context, Result};

/// Each probed layer's feature batches, per split (train, dev, test).
pub(super) struct LayerFeatures {
    layers: Vec<usize>,
    depth: usize,
    /// `[split][layer position]` → batches.
    splits: [Vec<Vec<StepInputs>>; 3],
}

impl LayerFeatures {
    /// Room for `layers` (empty: nothing is collected) of an encoder of `depth` layers.
    pub fn new(layers: &[usize], depth: usize) -> LayerFeatures {
        let empty = || vec![Vec::new(); layers.len()];
        LayerFeatures {
            layers: layers.to_vec(),
            depth,
            splits: [empty(), empty(), empty()],
        }
    }

    /// Keeps each probed layer's `[rows, d]` features of one batch of split `at` (0 train, 1
    /// dev, 2 test), with the batch's labels.
    pub fn collect(
        &mut self,
        at: usize,
        out: &Outputs,
        batch: &StepInputs,
        rows: usize,
        d: usize,
    ) -> Result<()> {
        if self.layers.is_empty() {
            return Ok(());
        }
        let labels = batch
            .get(Input::Labels)
            .cloned()
            .context("batch without labels")?;
        for (i, &k) in self.layers.iter().enumerate() {
            let f = out.tensor(&layer_output(k, self.depth))?;
            let values = f.as_f32().unwrap_or(&[]).to_vec();
            self.splits[at][i].push(StepInputs::from_iter([
                (Input::Features, Tensor::f32(vec![rows, d], values)),
                (Input::Labels, labels.clone()),
            ]));
        }
        Ok(())
    }
}

/// Trains and tests one linear probe per collected layer with the head graphs `(train, eval)`;
/// writes `layer<k>_{train_loss, dev_accuracy, dev_macro_f1, test_accuracy, test_macro_f1,
/// test_loss}` (and the span scores of a tagging task).
pub(super) fn probe_each_layer(
    run: &Training,
    feats: &LayerFeatures,
    (hg, he): (&TaskGraph, &TaskGraph),
    probe: &DownstreamConfig,
    metrics: &mut Metrics,
) -> Result<()> {
    let opts = run.ctx.session_options();
    for (i, &k) in feats.layers.iter().enumerate() {
        let [train_b, dev_b, test_b] = [0, 1, 2].map(|s| &feats.splits[s][i]);
        // The stage's own probe's initialisation, schedule and data order.
        let params = train::init_params(&hg.params, run.stage.seed)?;
        let steps = train_b.len() as u64 * probe.epochs as u64;
        let mut tr = Trainer::new(
            hg,
            Some(he),
            params,
            optim_spec(&probe.optimizer, steps),
            &opts,
        )?;
        let mut m = Metrics::new();
        run.fit(&mut tr, train_b, dev_b, probe, &mut m, "", None)
            .with_context(|| format!("probe_layers: layer {k}"))?;
        if !dev_b.is_empty() {
            let dev = train::test_scores(&mut tr, dev_b, &run.scoring(None), None)?;
            m.insert("dev_macro_f1".into(), dev.macro_f1);
        }
        run.test(&mut tr, dev_b, test_b, &mut m)?;
        for (name, v) in m {
            metrics.insert(format!("layer{k}_{name}"), v);
        }
    }
    Ok(())
}
