//! Rules of `[downstream.NAME]`: its dataset, its pretraining chain, transfer and `probe`.

use super::stage::{check_batch, check_dropout, check_optimizer, check_seq_len};
use super::{Violation, violation};
use crate::config::downstream::{DownstreamConfig, LongInputs, Pooling, Transfer, WindowPool};
use crate::config::embeddings::PositionEmbedding;
use crate::config::error::Hint;
use crate::config::experiment::Experiment;
use crate::config::layers::Layers;
use crate::config::pretrain::PretrainTask;

pub(super) fn check_downstream(exp: &Experiment) -> Result<(), Violation> {
    for (name, d) in &exp.downstream {
        let at = |key: &'static str| ["downstream", name.as_str(), key];
        let Some(dataset) = exp.dataset.get(&d.data) else {
            let names: Vec<&String> = exp.dataset.keys().collect();
            let hint = Hint::closest(&d.data, &names);
            let extra = if exp.corpus.contains_key(&d.data) {
                " (it is a corpus; a downstream stage needs a labeled dataset)".to_string()
            } else {
                hint.to_string()
            };
            return Err(violation(
                &at("data"),
                format!("unknown dataset '{}'{extra}", d.data),
            ));
        };
        if d.task.needs_text_pair() && dataset.text_pair.is_none() {
            return Err(violation(
                &at("task"),
                format!(
                    "task = \"pair\" needs two texts, but dataset '{}' has no text_pair column",
                    d.data
                ),
            ));
        }
        if d.baseline && !d.task.has_baseline() {
            return Err(violation(
                &at("baseline"),
                "the bag-of-words baseline has no span (question answering) mode (hint: remove baseline = true)",
            ));
        }
        if d.max_answer_tokens == 0 {
            return Err(violation(&at("max_answer_tokens"), "must be at least 1"));
        }
        for (i, stage) in d.from.names().iter().enumerate() {
            if !exp.pretrain.contains_key(stage) {
                let names: Vec<&String> = exp.pretrain.keys().collect();
                let hint = Hint::closest(stage, &names);
                let hint = if names.is_empty() {
                    " (there is no [pretrain.NAME] stage)".to_string()
                } else {
                    hint.to_string()
                };
                return Err(violation(
                    &at("from"),
                    format!("unknown pretrain stage '{stage}'{hint}"),
                ));
            }
            if i > 0 && exp.pretrain[stage].task == PretrainTask::Import {
                return Err(violation(
                    &at("from"),
                    format!(
                        "pretrain stage '{stage}' imports a model, so it can only start a chain (it would replace what the stages before it trained)"
                    ),
                ));
            }
            if d.from.names()[..i].contains(stage) {
                return Err(violation(
                    &at("from"),
                    format!("pretrain stage '{stage}' appears twice in the chain"),
                ));
            }
        }
        // The random-encoder control of `probe_layers`: nothing pretrained, so a frozen encoder
        // stays at its initialisation and the other modes train from it (as scratch).
        let random_control = d.probe_layers.is_some() && d.layers == Layers::All;
        if d.transfer != Transfer::Scratch && d.from.is_none() && !random_control {
            let word = d.transfer.name();
            return Err(violation(
                &at("transfer"),
                format!(
                    "transfer = \"{word}\" needs a pretraining stage, but from = \"none\" (hint: set from = \"NAME\" of a [pretrain.NAME] stage, or use transfer = \"scratch\")"
                ),
            ));
        }
        if let Layers::First(k) = d.layers {
            // layers = 0 transfers the embeddings alone. A scratch run ignores `layers`;
            // normalisation resets it.
            if d.transfer != Transfer::Scratch && k > exp.encoder.depth {
                return Err(violation(
                    &at("layers"),
                    format!("{k} exceeds encoder.depth = {}", exp.encoder.depth),
                ));
            }
        }
        if d.transfer == Transfer::LpFt && !matches!(d.layers, Layers::All) {
            return Err(violation(
                &at("layers"),
                "transfer = \"lp-ft\" probes the whole pretrained encoder first, so it needs layers = \"all\"",
            ));
        }
        if d.transfer != Transfer::Scratch {
            check_positions_trained(exp, name, d)?;
            check_causal_pooling(exp, name, d)?;
        }
        if let Some(lr) = d.encoder_lr.filter(|lr| !(lr.is_finite() && *lr > 0.0)) {
            return Err(violation(
                &at("encoder_lr"),
                format!("{lr} is not a positive learning rate"),
            ));
        }
        if !(d.layer_decay > 0.0 && d.layer_decay <= 1.0) {
            return Err(violation(
                &at("layer_decay"),
                format!(
                    "{} is outside (0, 1] (1 turns the decay off)",
                    d.layer_decay
                ),
            ));
        }
        check_probe_layers(exp, name, d)?;
        check_windows(name, d)?;
        check_dropout("downstream", name, d.dropout)?;
        if d.epochs < 1 {
            return Err(violation(&at("epochs"), "must be at least 1"));
        }
        check_seq_len(exp, "downstream", name, d.seq_len)?;
        check_batch("downstream", name, d.batch_size, d.seq_len)?;
        check_optimizer("downstream", name, &d.optimizer)?;
        if let Some(p) = &d.probe {
            if p.epochs == Some(0) {
                return Err(violation(
                    &["downstream", name, "probe", "epochs"],
                    "must be at least 1",
                ));
            }
            if let Some(lr) = p.lr.filter(|lr| !(lr.is_finite() && *lr > 0.0)) {
                return Err(violation(
                    &["downstream", name, "probe", "lr"],
                    format!("{lr} is not a positive learning rate"),
                ));
            }
        }
    }
    Ok(())
}

/// A downstream stage reading more positions than its pretraining trained: with learned
/// positions, rows past the longest pretraining `seq_len` of the chain arrive untrained.
fn check_positions_trained(
    exp: &Experiment,
    name: &str,
    d: &DownstreamConfig,
) -> Result<(), Violation> {
    if exp.embeddings.position != PositionEmbedding::Learned {
        return Ok(());
    }
    let trained = d
        .from
        .names()
        .iter()
        .filter_map(|s| exp.pretrain.get(s).map(|p| (s, p)))
        .filter(|(_, p)| p.task != PretrainTask::Import)
        .map(|(s, p)| (s, p.seq_len.min(exp.encoder.max_len)))
        .max_by_key(|(_, n)| *n);
    let Some((stage, trained)) = trained else {
        return Ok(());
    };
    let wanted = d.seq_len.min(exp.encoder.max_len);
    if wanted > trained {
        return Err(violation(
            &["downstream", name, "seq_len"],
            format!(
                "{wanted} is longer than pretrain.{stage}.seq_len = {trained}: with learned positions, position rows {trained}..{} would arrive untrained (hint: pretrain at seq_len = {wanted}, or fine-tune at seq_len = {trained})",
                wanted - 1
            ),
        ));
    }
    Ok(())
}

/// `stride` and `window_pool` are read only with windows, and a stride must fit in a window.
fn check_windows(name: &str, d: &DownstreamConfig) -> Result<(), Violation> {
    let windows = d.long_inputs() == LongInputs::Windows;
    let at = |key: &'static str| ["downstream", name, key];
    if !windows && d.stride.is_some() {
        return Err(violation(
            &at("stride"),
            "is read only with long = \"windows\" (hint: set long = \"windows\" or remove stride)",
        ));
    }
    if !windows && d.window_pool != WindowPool::Mean {
        return Err(violation(
            &at("window_pool"),
            "is read only with long = \"windows\" (hint: set long = \"windows\")",
        ));
    }
    if !d.task.pools_windows() && d.window_pool != WindowPool::Mean {
        return Err(violation(
            &at("window_pool"),
            "is read only for task = \"classify\" and \"pair\" (tagging and span tasks read each token from one window)",
        ));
    }
    // [CLS] and [SEP] take two of a window's tokens; what is left holds text.
    let room = d.seq_len.saturating_sub(2);
    if let Some(s) = d.stride.filter(|&s| s == 0 || s > room) {
        return Err(violation(
            &at("stride"),
            format!(
                "{s} is outside [1, {room}], the text tokens one window of seq_len = {} holds",
                d.seq_len
            ),
        ));
    }
    if windows && d.probe_layers.is_some() && !d.task.windows_itself() {
        return Err(violation(
            &at("probe_layers"),
            "is not read with long = \"windows\" (per-layer probes and CKA read one row per example; hint: remove probe_layers, or set long = \"truncate\")",
        ));
    }
    Ok(())
}

/// `probe_layers`: indices within the encoder, and under `transfer = "frozen"` only with every
/// layer frozen (a partly frozen run neither extracts features nor trains the whole encoder).
fn check_probe_layers(exp: &Experiment, name: &str, d: &DownstreamConfig) -> Result<(), Violation> {
    let Some(p) = &d.probe_layers else {
        return Ok(());
    };
    let at = ["downstream", name, "probe_layers"];
    if d.transfer == Transfer::Frozen && d.layers != Layers::All {
        return Err(violation(
            &at,
            format!(
                "is read with transfer = \"frozen\" only with layers = \"all\" (found layers = {}): per-layer probes need every layer frozen (hint: set layers = \"all\", or use transfer = \"finetune\" for per-layer CKA)",
                d.layers
            ),
        ));
    }
    // An imported encoder's depth is known only when its stage runs (checked there).
    let imported = d
        .from
        .names()
        .first()
        .and_then(|s| exp.pretrain.get(s))
        .is_some_and(|p| p.task == PretrainTask::Import);
    if !imported && let Err(k) = p.indices(exp.encoder.depth) {
        return Err(violation(
            &at,
            format!(
                "layer {k} exceeds encoder.depth = {} (0 is the embeddings' output, {} the last layer's)",
                exp.encoder.depth, exp.encoder.depth
            ),
        ));
    }
    Ok(())
}

/// A sequence head on an encoder pretrained as a causal LM (the last stage of `from` is `clm`,
/// so its attention stays causal downstream) cannot pool at `[CLS]`: position 0 sees only
/// itself, so every input would reach the head as the same vector.
fn check_causal_pooling(
    exp: &Experiment,
    name: &str,
    d: &DownstreamConfig,
) -> Result<(), Violation> {
    let causal = d
        .from
        .names()
        .last()
        .and_then(|s| exp.pretrain.get(s))
        .is_some_and(|p| p.task == PretrainTask::Clm);
    if causal && d.task.pools_sequence() && d.pooling == Pooling::Cls {
        let stage = d.from.names().last().cloned().unwrap_or_default();
        return Err(violation(
            &["downstream", name, "pooling"],
            format!(
                "\"cls\" (the default) reads position 0, which under the causal attention of the clm-pretrained encoder (pretrain.{stage}) sees only itself: every input would reach the head as the same vector (hint: set pooling = \"last\", the last real token, as GPT-style models pool, or \"mean\")"
            ),
        ));
    }
    Ok(())
}
