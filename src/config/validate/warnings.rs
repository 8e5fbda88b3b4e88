//! Settings that are valid but probably not what was meant.

use super::{Violation, violation};
use crate::config::downstream::Transfer;
use crate::config::experiment::Experiment;
use crate::config::pretrain::PretrainTask;

/// Settings that are valid but probably not what was meant, over all grid points of a sweep
/// (each reported once): segment embeddings without pair input, pretraining no stage uses.
pub fn warnings<'e>(points: impl IntoIterator<Item = &'e Experiment> + Clone) -> Vec<Violation> {
    let mut out = Vec::new();
    let pair_input = |exp: &Experiment| {
        exp.downstream.values().any(|d| d.task.needs_text_pair())
            || exp
                .pretrain
                .values()
                .any(|p| matches!(p.task, PretrainTask::Nsp | PretrainTask::Sop))
    };
    if points
        .clone()
        .into_iter()
        .any(|e| e.embeddings.segment && !pair_input(e))
    {
        out.push(violation(
            &["embeddings", "segment"],
            "segment embeddings matter only for pair input (a pair downstream task or nsp/sop pretraining)",
        ));
    }
    let mut unused: Vec<String> = Vec::new();
    for exp in points.clone() {
        for name in exp.pretrain.keys() {
            if !unused.contains(name) {
                unused.push(name.clone());
            }
        }
    }
    for exp in points {
        unused.retain(|name| {
            !exp.downstream
                .values()
                .any(|d| d.transfer != Transfer::Scratch && d.from.names().contains(name))
        });
    }
    for name in unused {
        out.push(violation(
            &["pretrain", &name],
            "no downstream stage starts from it (through `from`), so it will not run",
        ));
    }
    out
}
