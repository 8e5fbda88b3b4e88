//! Accuracy and macro-F1 over (gold, predicted) label pairs.

use crate::data::IGNORE_INDEX;

/// Accuracy and macro-F1 over (gold, predicted) pairs, ignoring IGNORE_INDEX gold labels.
/// Macro-F1 averages over the classes present in the gold labels. Both are NaN without pairs.
pub fn accuracy_macro_f1(pairs: &[(i64, i64)], classes: usize) -> (f64, f64) {
    let pairs: Vec<_> = pairs.iter().filter(|(g, _)| *g != IGNORE_INDEX).collect();
    if pairs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let correct = pairs.iter().filter(|(g, p)| g == p).count();
    let (mut tp, mut fp, mut fn_) = (
        vec![0usize; classes],
        vec![0usize; classes],
        vec![0usize; classes],
    );
    for &&(g, p) in &pairs {
        if g == p {
            tp[g as usize] += 1;
        } else {
            fn_[g as usize] += 1;
            if (p as usize) < classes {
                fp[p as usize] += 1;
            }
        }
    }
    let mut f1s = Vec::new();
    for c in 0..classes {
        if tp[c] + fn_[c] == 0 {
            continue; // class absent from the gold labels
        }
        let denom = 2 * tp[c] + fp[c] + fn_[c];
        f1s.push(if denom == 0 {
            0.0
        } else {
            2.0 * tp[c] as f64 / denom as f64
        });
    }
    (
        correct as f64 / pairs.len() as f64,
        f1s.iter().sum::<f64>() / f1s.len().max(1) as f64,
    )
}

/// The index of the largest value of each row of `values` (rows of `width` values).
pub fn argmax_rows(values: &[f32], width: usize) -> Vec<i64> {
    values
        .chunks(width)
        .map(|r| {
            r.iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i as i64)
                .unwrap_or(0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_f1_averages_over_gold_classes() {
        // class 0: tp 1, fn 1 -> f1 = 2/3; class 1: tp 1, fp 1 -> f1 = 2/3
        let (acc, f1) = accuracy_macro_f1(&[(0, 0), (0, 1), (1, 1), (IGNORE_INDEX, 0)], 2);
        assert!((acc - 2.0 / 3.0).abs() < 1e-12);
        assert!((f1 - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn argmax_takes_the_last_of_equal_maxima_like_max_by() {
        assert_eq!(argmax_rows(&[0.1, 0.9, 0.0, 2.0, -1.0, 2.0], 3), vec![1, 2]);
    }
}
