//! Exact match and token F1 of extractive question answering, as the official SQuAD v1.1
//! `evaluate-v1.1.py` defines them: answers are normalised (lower-cased, ASCII punctuation
//! (`string.punctuation`) removed, the articles a/an/the removed as whole words, whitespace
//! collapsed), each prediction is scored against every gold answer and keeps the best score.
//! Reported as fractions in [0, 1], like accuracy elsewhere.

use std::collections::HashMap;

/// The official `normalize_answer`: lower, remove punctuation, remove articles, fix whitespace.
pub fn normalize_answer(s: &str) -> String {
    let lower = s.to_lowercase();
    let no_punct: String = lower
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect();
    // `re.sub(r'\b(a|an|the)\b', ' ', text)` then `' '.join(text.split())`: an article is a
    // whole word once punctuation is gone, so dropping whitespace-separated articles is the same
    // except where Python's \b sees a word boundary inside a token (non-word characters other
    // than punctuation, e.g. "the·x"); those are split on the same \W boundaries here.
    let mut words = Vec::new();
    for token in no_punct.split_whitespace() {
        let mut kept = String::new();
        for piece in split_word_boundaries(token) {
            if !matches!(piece, "a" | "an" | "the") {
                kept.push_str(piece);
            } else {
                kept.push(' ');
            }
        }
        words.extend(kept.split_whitespace().map(str::to_string));
    }
    words.join(" ")
}

/// Splits a token into maximal runs of word characters (Python's `\w`, Unicode) and of other
/// characters, so articles are matched exactly where `\b(a|an|the)\b` matches them.
fn split_word_boundaries(token: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut prev: Option<bool> = None;
    for (i, c) in token.char_indices() {
        let w = c.is_alphanumeric() || c == '_';
        if prev.is_some_and(|p| p != w) {
            out.push(&token[start..i]);
            start = i;
        }
        prev = Some(w);
    }
    if start < token.len() {
        out.push(&token[start..]);
    }
    out
}

/// 1 when the normalised prediction equals the normalised gold answer, else 0.
pub fn exact_match(prediction: &str, gold: &str) -> f64 {
    (normalize_answer(prediction) == normalize_answer(gold)) as u8 as f64
}

/// Token F1 between the normalised prediction and gold answer (bag-of-tokens overlap, as
/// `collections.Counter & Counter`); 0 when nothing overlaps (an empty side included).
pub fn token_f1(prediction: &str, gold: &str) -> f64 {
    let p = normalize_answer(prediction);
    let g = normalize_answer(gold);
    let (p, g): (Vec<&str>, Vec<&str>) = (
        p.split_whitespace().collect(),
        g.split_whitespace().collect(),
    );
    let mut counts: HashMap<&str, i64> = HashMap::new();
    for t in &g {
        *counts.entry(t).or_default() += 1;
    }
    let mut same = 0usize;
    for t in &p {
        if let Some(c) = counts.get_mut(t)
            && *c > 0
        {
            *c -= 1;
            same += 1;
        }
    }
    if same == 0 {
        return 0.0;
    }
    let precision = same as f64 / p.len() as f64;
    let recall = same as f64 / g.len() as f64;
    2.0 * precision * recall / (precision + recall)
}

/// The best score of a prediction over its gold answers (`metric_max_over_ground_truths`); 0
/// without gold answers.
pub fn max_over_golds(score: fn(&str, &str) -> f64, prediction: &str, golds: &[String]) -> f64 {
    golds
        .iter()
        .map(|g| score(prediction, g))
        .fold(0.0, f64::max)
}

/// Mean exact match and F1 of predictions, each with its gold answers; NaN for none.
pub fn squad_scores(predictions: &[(String, Vec<String>)]) -> (f64, f64) {
    if predictions.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = predictions.len() as f64;
    let (mut em, mut f1) = (0.0, 0.0);
    for (p, golds) in predictions {
        em += max_over_golds(exact_match, p, golds);
        f1 += max_over_golds(token_f1, p, golds);
    }
    (em / n, f1 / n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values worked out by hand from `evaluate-v1.1.py` (and checked by running its
    /// functions in python3).
    #[test]
    fn official_normalisation_table() {
        let cases: &[(&str, &str)] = &[
            ("The Cat!", "cat"),
            ("an apple, a pear and THE plum.", "apple pear and plum"),
            ("  theory   of\tthe  anthem ", "theory of anthem"),
            ("Denver Broncos'", "denver broncos"),
            ("a-b", "ab"),
            ("the", ""),
            ("", ""),
            ("Ångström's law", "ångströms law"),
        ];
        for (input, want) in cases {
            assert_eq!(
                normalize_answer(input),
                *want,
                "normalize_answer({input:?})"
            );
        }
    }

    #[test]
    fn em_and_f1_table() {
        let golds = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // (prediction, golds, exact match, F1)
        let cases: &[(&str, &[&str], f64, f64)] = &[
            (
                "Denver Broncos",
                &["Denver Broncos", "The Denver Broncos"],
                1.0,
                1.0,
            ),
            ("the Denver Broncos!", &["Denver Broncos"], 1.0, 1.0),
            // 1 common token; precision 1/2, recall 1/3: F1 = 2·(1/2)(1/3)/(5/6) = 0.4.
            ("Denver stadium", &["Denver Broncos team"], 0.0, 0.4),
            // Several golds: the best of 0.4 and 2/3 (precision 1, recall 1/2).
            (
                "Broncos",
                &["Denver stadium", "Denver Broncos"],
                0.0,
                2.0 / 3.0,
            ),
            ("", &["Denver Broncos"], 0.0, 0.0),
            // A gold that normalises to nothing matches an empty prediction exactly, but F1 is 0
            // (no common token), as in the official script.
            ("", &["the"], 1.0, 0.0),
            // Repeated tokens count once per occurrence (Counter &): common = 1, P = 1/2, R = 1.
            ("cat cat", &["cat"], 0.0, 2.0 / 3.0),
        ];
        for (p, g, em, f1) in cases {
            let g = golds(g);
            assert_eq!(
                max_over_golds(exact_match, p, &g),
                *em,
                "EM of {p:?} vs {g:?}"
            );
            let got = max_over_golds(token_f1, p, &g);
            assert!(
                (got - f1).abs() < 1e-12,
                "F1 of {p:?} vs {g:?}: {got} != {f1}"
            );
        }
        let (em, f1) = squad_scores(&[
            ("Denver Broncos".into(), golds(&["Denver Broncos"])),
            ("Denver stadium".into(), golds(&["Denver Broncos team"])),
        ]);
        assert_eq!(em, 0.5);
        assert!((f1 - 0.7).abs() < 1e-12);
    }
}
