//! Rules of `[vectors]`: sizes at least 1, a positive rate, a subsampling threshold below 1.

use super::{Violation, violation};
use crate::config::experiment::Experiment;

pub(super) fn check_vectors(exp: &Experiment) -> Result<(), Violation> {
    let v = &exp.vectors;
    for (key, n) in [
        ("window", v.window),
        ("epochs", v.epochs),
        ("negatives", v.negatives),
    ] {
        if n < 1 {
            return Err(violation(&["vectors", key], "must be at least 1"));
        }
    }
    if !(v.lr.is_finite() && v.lr > 0.0) {
        return Err(violation(
            &["vectors", "lr"],
            format!("{} is not a positive learning rate", v.lr),
        ));
    }
    if !(0.0..1.0).contains(&v.subsample) {
        return Err(violation(
            &["vectors", "subsample"],
            format!(
                "{} is outside [0, 1) (0 turns subsampling off)",
                v.subsample
            ),
        ));
    }
    Ok(())
}
