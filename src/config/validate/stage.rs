//! Rules both kinds of training stage share: batch size, sequence length, `optimizer`.

use super::{Violation, violation};
use crate::config::embeddings::PositionEmbedding;
use crate::config::experiment::Experiment;
use crate::config::limits;
use crate::config::optimizer::OptimizerConfig;

pub(super) fn check_batch(
    section: &str,
    name: &str,
    batch_size: usize,
    seq_len: usize,
) -> Result<(), Violation> {
    if batch_size < 1 {
        return Err(violation(
            &[section, name, "batch_size"],
            "must be at least 1",
        ));
    }
    if batch_size > limits::BATCH_SIZE {
        return Err(violation(
            &[section, name, "batch_size"],
            format!(
                "{batch_size} is more than the limit of {}",
                limits::BATCH_SIZE
            ),
        ));
    }
    if batch_size.saturating_mul(seq_len) > limits::BATCH_TOKENS {
        return Err(violation(
            &[section, name, "batch_size"],
            format!(
                "{batch_size} x seq_len {seq_len} tokens per batch is more than the limit of {}",
                limits::BATCH_TOKENS
            ),
        ));
    }
    Ok(())
}

pub(super) fn check_optimizer(
    section: &str,
    name: &str,
    o: &OptimizerConfig,
) -> Result<(), Violation> {
    let at = |key: &'static str| [section, name, "optimizer", key];
    if !(o.lr.is_finite() && o.lr > 0.0) {
        return Err(violation(
            &at("lr"),
            format!("{} is not a positive learning rate", o.lr),
        ));
    }
    if !(o.weight_decay.is_finite() && o.weight_decay >= 0.0) {
        return Err(violation(&at("weight_decay"), "must be 0 or more"));
    }
    if !(0.0..1.0).contains(&o.momentum) {
        return Err(violation(
            &at("momentum"),
            format!("{} is outside [0, 1)", o.momentum),
        ));
    }
    if !(o.clip_norm.is_finite() && o.clip_norm >= 0.0) {
        return Err(violation(&at("clip_norm"), "must be 0 (off) or more"));
    }
    Ok(())
}

pub(super) fn check_seq_len(
    exp: &Experiment,
    section: &str,
    name: &str,
    seq_len: usize,
) -> Result<(), Violation> {
    if seq_len < 2 {
        return Err(violation(&[section, name, "seq_len"], "must be at least 2"));
    }
    if seq_len > limits::MAX_LEN {
        return Err(violation(
            &[section, name, "seq_len"],
            format!("{seq_len} is more than the limit of {}", limits::MAX_LEN),
        ));
    }
    if seq_len > exp.encoder.max_len && exp.embeddings.position == PositionEmbedding::Learned {
        return Err(violation(
            &[section, name, "seq_len"],
            format!(
                "{seq_len} exceeds encoder.max_len = {}",
                exp.encoder.max_len
            ),
        ));
    }
    Ok(())
}

/// A stage's own `dropout`, when given, is a rate in [0, 1).
pub(super) fn check_dropout(
    section: &str,
    name: &str,
    dropout: Option<f64>,
) -> Result<(), Violation> {
    match dropout {
        Some(p) if !(0.0..1.0).contains(&p) => Err(violation(
            &[section, name, "dropout"],
            format!("{p} is outside [0, 1)"),
        )),
        _ => Ok(()),
    }
}
