//! Accuracy and macro-F1 of class ids, computed as the runner computes them for its own heads:
//! macro-F1 averages per-class F1 over the classes present in the gold labels; a predicted
//! class that is never gold lowers precision only. A local copy, so `baseline` need not import
//! the runner (which imports `baseline`).

/// Accuracy and macro-F1 over (gold, predicted) class ids; gold ids are below `classes`.
/// Both are NaN when `pairs` is empty.
pub fn accuracy_macro_f1(pairs: &[(usize, usize)], classes: usize) -> (f64, f64) {
    if pairs.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let (mut tp, mut fp, mut fn_) = (
        vec![0usize; classes],
        vec![0usize; classes],
        vec![0usize; classes],
    );
    for &(g, p) in pairs {
        if g == p {
            tp[g] += 1;
        } else {
            fn_[g] += 1;
            if p < classes {
                fp[p] += 1;
            }
        }
    }
    let correct: usize = tp.iter().sum();
    let f1s: Vec<f64> = (0..classes)
        .filter(|&c| tp[c] + fn_[c] > 0) // classes absent from the gold labels are skipped
        .map(|c| 2.0 * tp[c] as f64 / (2 * tp[c] + fp[c] + fn_[c]) as f64)
        .collect();
    (
        correct as f64 / pairs.len() as f64,
        f1s.iter().sum::<f64>() / f1s.len().max(1) as f64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_and_macro_f1_by_hand() {
        // Class 0: tp 1, fn 1, fp 0 -> F1 2/3; class 1: tp 1, fp 1 -> F1 2/3.
        let (acc, f1) = accuracy_macro_f1(&[(0, 0), (0, 1), (1, 1)], 2);
        assert_eq!(acc, 2.0 / 3.0);
        assert!((f1 - 2.0 / 3.0).abs() < 1e-15);
        // Class 2 is never gold: skipped in the average.
        let (acc, f1) = accuracy_macro_f1(&[(0, 0), (1, 1)], 3);
        assert_eq!((acc, f1), (1.0, 1.0));
        assert!(accuracy_macro_f1(&[], 2).0.is_nan());
    }
}
