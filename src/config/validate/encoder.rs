//! Rules of `[encoder]`: sizes, heads dividing `d_model`, and the parameter count.

use super::{Violation, violation};
use crate::config::data::TokenizerKind;
use crate::config::experiment::Experiment;
use crate::config::limits;

pub(super) fn check_encoder(exp: &Experiment) -> Result<(), Violation> {
    let e = &exp.encoder;
    if e.depth < 1 {
        return Err(violation(&["encoder", "depth"], "must be at least 1"));
    }
    if e.d_model < 1 {
        return Err(violation(&["encoder", "d_model"], "must be at least 1"));
    }
    if e.heads < 1 {
        return Err(violation(&["encoder", "heads"], "must be at least 1"));
    }
    if !e.d_model.is_multiple_of(e.heads) {
        return Err(violation(
            &["encoder", "heads"],
            format!("{} heads do not divide d_model = {}", e.heads, e.d_model),
        ));
    }
    if e.ffn < 1 {
        return Err(violation(&["encoder", "ffn"], "must be at least 1"));
    }
    if !(0.0..1.0).contains(&e.dropout) {
        return Err(violation(
            &["encoder", "dropout"],
            format!("{} is outside [0, 1)", e.dropout),
        ));
    }
    if e.max_len < 1 {
        return Err(violation(&["encoder", "max_len"], "must be at least 1"));
    }
    for (key, value, limit) in [
        ("depth", e.depth, limits::DEPTH),
        ("d_model", e.d_model, limits::D_MODEL),
        ("ffn", e.ffn, limits::FFN),
        ("max_len", e.max_len, limits::MAX_LEN),
    ] {
        if value > limit {
            return Err(violation(
                &["encoder", key],
                format!("{value} is more than the limit of {limit}"),
            ));
        }
    }
    // The cost model's count (every size is within its limit above, so f64 holds it exactly
    // enough); a tokenizer file's vocabulary is known only when it is read.
    let vocab = if exp.tokenizer.kind == TokenizerKind::File {
        0
    } else {
        exp.tokenizer.vocab_size
    };
    let params = e.params(vocab, &exp.embeddings);
    if params > limits::PARAMS as f64 {
        return Err(violation(
            &["encoder", "d_model"],
            format!(
                "the encoder would hold about {params:.0} parameters, more than the limit of {} (hint: lower d_model, ffn, depth or tokenizer.vocab_size)",
                limits::PARAMS
            ),
        ));
    }
    Ok(())
}
