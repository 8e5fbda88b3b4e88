//! Rules of `[pretrain.NAME]`: the data it reads, its task's needs, its sizes.

use super::stage::{check_batch, check_dropout, check_optimizer, check_seq_len};
use super::{Violation, data_hint, violation};
use crate::config::experiment::Experiment;
use crate::config::pretrain::PretrainTask;

pub(super) fn check_pretrain(exp: &Experiment) -> Result<(), Violation> {
    for (name, p) in &exp.pretrain {
        if p.task == PretrainTask::Import {
            if p.path.is_none() {
                return Err(violation(
                    &["pretrain", name, "path"],
                    "task = \"import\" needs path = \"DIR\" (a BERT-family model directory) or a params.safetensors file",
                ));
            }
            continue;
        }
        if p.data.is_empty() {
            return Err(violation(
                &["pretrain", name, "data"],
                format!(
                    "missing: task = \"{}\" needs data = \"NAME\" of a [corpus.NAME] or [dataset.NAME]",
                    serde_json::to_value(p.task)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_default()
                ),
            ));
        }
        let is_dataset = exp.dataset.contains_key(&p.data);
        if !is_dataset && !exp.corpus.contains_key(&p.data) {
            let hint = data_hint(exp, &p.data, p.task != PretrainTask::Classify);
            return Err(violation(
                &["pretrain", name, "data"],
                format!("unknown corpus or dataset '{}'{hint}", p.data),
            ));
        }
        if p.task == PretrainTask::Classify && !is_dataset {
            return Err(violation(
                &["pretrain", name, "data"],
                format!(
                    "task = \"classify\" needs a labeled dataset, but '{}' is a corpus",
                    p.data
                ),
            ));
        }
        if p.steps < 1 {
            return Err(violation(
                &["pretrain", name, "steps"],
                "must be at least 1",
            ));
        }
        check_seq_len(exp, "pretrain", name, p.seq_len)?;
        check_dropout("pretrain", name, p.dropout)?;
        check_batch("pretrain", name, p.batch_size, p.seq_len)?;
        if p.task == PretrainTask::Mlm && !(p.mask_prob > 0.0 && p.mask_prob < 1.0) {
            return Err(violation(
                &["pretrain", name, "mask_prob"],
                format!("{} is outside (0, 1)", p.mask_prob),
            ));
        }
        check_optimizer("pretrain", name, &p.optimizer)?;
    }
    Ok(())
}
