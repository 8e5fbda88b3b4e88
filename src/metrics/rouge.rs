//! ROUGE-L (Lin 2004) as Google's `rouge-score` package computes it with
//! `rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)` (`rouge_scorer.py`, `tokenize.py`):
//! both texts are lowercased, every run of characters outside `[a-z0-9]` becomes a separator, the
//! remaining words are compared by their longest common subsequence, and precision = LCS / words
//! in the prediction, recall = LCS / words in the reference, F = their harmonic mean (0 when
//! either side has no word). The corpus figure is the mean F over sentences, as rouge-score's
//! users average it. Scores are on rouge-score's scale, 0 to 1.
//!
//! Why our own: the package is Python, and the figure must be rouge-score's to be comparable;
//! tests/it/generation/metrics.rs holds this file to the pinned package.

/// Precision, recall and F-measure of one prediction against one reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RougeScore {
    pub precision: f64,
    pub recall: f64,
    pub fmeasure: f64,
}

/// rouge-score's default tokenizer without stemming: lowercase, then the maximal runs of ASCII
/// letters and digits (`[^a-z0-9]+` → space, split, keep `^[a-z0-9]+$`).
pub fn rouge_tokenize(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit()))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// ROUGE-L of `prediction` against `reference` (rouge-score's `score(target, prediction)`).
pub fn rouge_l(prediction: &str, reference: &str) -> RougeScore {
    let (pred, target) = (rouge_tokenize(prediction), rouge_tokenize(reference));
    if pred.is_empty() || target.is_empty() {
        return RougeScore {
            precision: 0.0,
            recall: 0.0,
            fmeasure: 0.0,
        };
    }
    let lcs = lcs_len(&target, &pred) as f64;
    let precision = lcs / pred.len() as f64;
    let recall = lcs / target.len() as f64;
    let fmeasure = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    RougeScore {
        precision,
        recall,
        fmeasure,
    }
}

/// Mean ROUGE-L F over (prediction, reference) pairs; NaN for none.
pub fn corpus_rouge_l<P: AsRef<str>, R: AsRef<str>>(pairs: &[(P, R)]) -> f64 {
    if pairs.is_empty() {
        return f64::NAN;
    }
    let sum: f64 = pairs
        .iter()
        .map(|(p, r)| rouge_l(p.as_ref(), r.as_ref()).fmeasure)
        .sum();
    sum / pairs.len() as f64
}

/// Length of the longest common subsequence, by the usual dynamic programme kept to one row.
fn lcs_len<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut row = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            row[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(row[j])
            };
        }
        std::mem::swap(&mut prev, &mut row);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    //! rouge-score's own test cases (rouge_scorer_test.py and tokenize_test.py at 0.1.2), with
    //! their expected values and precision (`assertAlmostEqual`: 7 places, or 5 where given).
    use super::*;

    fn close(got: f64, want: f64, places: i32) {
        assert!(
            (got - want).abs() < 0.5 * 10f64.powi(-places),
            "{got} != {want} to {places} places"
        );
    }

    #[test]
    fn tokenize_cases() {
        assert_eq!(rouge_tokenize("one Two three"), ["one", "two", "three"]);
        assert_eq!(rouge_tokenize("one\n Two \nthree"), ["one", "two", "three"]);
        // Non-ASCII letters separate words; the Kelvin sign lowercases to an ASCII k.
        assert_eq!(
            rouge_tokenize("Café-au_lait \u{212A}9"),
            ["caf", "au", "lait", "k9"]
        );
    }

    #[test]
    fn rouge_l_cases() {
        // testRougeLConsecutive and testRougeLNonConsecutive: P 1, R 2/3, F 4/5.
        for prediction in ["testing one", "testing two"] {
            let s = rouge_l(prediction, "testing one two");
            close(s.precision, 1.0, 7);
            close(s.recall, 2.0 / 3.0, 7);
            close(s.fmeasure, 4.0 / 5.0, 7);
        }
        // testRougeEmpty.
        assert_eq!(rouge_l("", "testing one two").fmeasure, 0.0);
        // testLcsTable: lcs([1,2,3,4,5], [2,5,3,4]) = 3; none with [8, 9].
        assert_eq!(lcs_len(&[1, 2, 3, 4, 5], &[2, 5, 3, 4]), 3);
        assert_eq!(lcs_len(&[1, 2, 3, 4, 5], &[8, 9]), 0);
    }

    /// testRougeLAgainstRouge155: rouge-score's testdata/target.txt and prediction.txt, line by
    /// line, against ROUGE-1.5.5's figures (5 places).
    #[test]
    fn against_rouge_155() {
        let targets = [
            "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L\n",
            "KsJdPByEtAor fE-Qg Dpdbring cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMtion psing sbKao Q m qiing LMmer HqqLFXe,XPY,J XsurkMer ,ed nB'wH'bWVHjWFEing tQ.saefZwJtKrTlixYpMMsJing UCAPwNHeYVjDing c T BUySKtion gMPfJpwGw p'NvxAoping eu pBwMBKV'I DNxqelhu,PHPxDEq,mtion SN\n",
        ];
        let predictions = [
            "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi\n",
            "n cw-WeFyu vC MoBL Xdn g wkvcEiGvKtion BDFhrpMer pstion sbKao Q m qier LMmed HqqLFXe,XPY,J XsurkMeo ,ed nB'wH'bWVHjWFEer tQ.saefZwJtKrTlixYpMMNJtion UCAPwNHeYVjD\n",
        ];
        let want = [(0.40741, 0.68750, 0.51163), (0.40476, 0.65385, 0.50000)];
        for ((t, p), (r, pr, f)) in targets.iter().zip(predictions).zip(want) {
            let s = rouge_l(p, t);
            close(s.recall, r, 5);
            close(s.precision, pr, 5);
            close(s.fmeasure, f, 5);
        }
    }
}
