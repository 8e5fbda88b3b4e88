//! `probe_layers` on a run that trains the encoder: how much training changed each layer, as
//! linear CKA (Kornblith et al. 2019) between the layer's features of the dev texts under the
//! starting encoder and under the trained one. Metrics `layer<k>_cka`.

use super::training::Training;
use crate::data::IGNORE_INDEX;
use crate::experiment::stage::Metrics;
use crate::experiment::stage::transfer::subset;
use crate::metrics::linear_cka;
use crate::model::Input;
use crate::model::{TaskGraph, layer_output};
use crate::runtime::{Feeds, ParamStore};
use crate::train::{self, StepInputs};
use anyhow::Result;

/// Writes `layer<k>_cka` for each layer the `layer_features` graph `lg` outputs, comparing the
/// encoder of `start` with that of `trained` on the `dev` batches. Rows are the labelled
/// examples (tokens for tagging), so padding and unlabelled sub-words are left out.
pub(super) fn layer_cka(
    run: &Training,
    lg: &TaskGraph,
    start: &ParamStore,
    trained: &ParamStore,
    dev: &[StepInputs],
    metrics: &mut Metrics,
) -> Result<()> {
    let shape = run.shape;
    let (d, depth) = (shape.spec.d_model, shape.spec.depth);
    let names: Vec<&str> = lg.params.iter().map(|p| p.name.as_str()).collect();
    let before = subset(start, |n| names.contains(&n))?;
    let after = subset(trained, |n| names.contains(&n))?;
    let mut sess = train::session(lg, &run.ctx.session_options())?;
    let mut feats = |params: &ParamStore| -> Result<Vec<Vec<f32>>> {
        let mut out = vec![Vec::new(); shape.probe_layers.len()];
        for batch in dev {
            let mut feeds = Feeds::new();
            batch.feed_into(&mut feeds, |i| i != Input::Labels);
            feeds.params(params);
            let o = sess.run(&feeds)?;
            let labels = batch.labels()?;
            for (i, &k) in shape.probe_layers.iter().enumerate() {
                let f = o.tensor(&layer_output(k, depth))?;
                let values = f.as_f32().unwrap_or(&[]);
                for (row, &g) in values.chunks_exact(d).zip(labels) {
                    if g != IGNORE_INDEX {
                        out[i].extend_from_slice(row);
                    }
                }
            }
        }
        Ok(out)
    };
    let (x, y) = (feats(&before)?, feats(&after)?);
    for (i, &k) in shape.probe_layers.iter().enumerate() {
        let n = x[i].len() / d;
        metrics.insert(format!("layer{k}_cka"), linear_cka(&x[i], d, &y[i], d, n));
    }
    Ok(())
}
