//! Corpus chrF (Popović 2015) exactly as sacrebleu 2.x's `CHRF` computes it by default
//! (`metrics/chrf.py`, `metrics/helpers.py`): whitespace is removed (Python's `''.join(s.split())`),
//! character n-grams of orders 1..=6 are counted, each hypothesis is matched against the reference
//! that gives it the best segment F-score, the (hypothesis, reference, match) counts per order are
//! summed over the corpus, and one F-beta (beta = 2) is taken of the mean precision and the mean
//! recall over the orders both sides have n-grams of (sacrebleu's default, `eps_smoothing=False`).
//! Scores are on sacrebleu's scale, 0 to 100. Word n-grams (chrF++, `word_order > 0`) are not
//! implemented.
//!
//! Why our own: as for BLEU (see `bleu.rs`), the figure is only comparable if it is sacrebleu's,
//! and no maintained Rust crate computes it; tests/it/generation/metrics.rs holds this file to the
//! pinned sacrebleu.

use super::bleu::SACREBLEU_VERSION;
use super::pystr;
use std::collections::HashMap;

/// The settings of `sacrebleu.CHRF(...)` implemented here; `Default` is sacrebleu's default.
#[derive(Debug, Clone, PartialEq)]
pub struct ChrfConfig {
    /// Maximum character n-gram order (`char_order`, 6).
    pub char_order: usize,
    /// Weight of recall against precision (`beta`, 2).
    pub beta: u32,
    /// Lowercase both sides first (`lowercase`, false).
    pub lowercase: bool,
    /// Keep whitespace inside the character n-grams (`whitespace`, false: it is removed).
    pub whitespace: bool,
    /// chrF++.py's epsilon smoothing (`eps_smoothing`, false): average the per-order F-scores
    /// over all orders instead of taking one F of the averaged precision and recall.
    pub eps_smoothing: bool,
}

impl Default for ChrfConfig {
    fn default() -> Self {
        ChrfConfig {
            char_order: 6,
            beta: 2,
            lowercase: false,
            whitespace: false,
            eps_smoothing: false,
        }
    }
}

/// Per order: hypothesis n-grams (0 when the reference has none of that order), reference
/// n-grams, clipped matches. Summed over segments, they determine the corpus score.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChrfStats(pub Vec<[u64; 3]>);

impl ChrfConfig {
    /// sacrebleu's signature string for these settings with `nrefs` references per segment
    /// (`None`: a variable number).
    pub fn signature(&self, nrefs: Option<usize>) -> String {
        let nrefs = nrefs.map_or("var".to_string(), |n| n.to_string());
        format!(
            "nrefs:{nrefs}|case:{}|eff:{}|nc:{}|nw:0|space:{}|version:{SACREBLEU_VERSION}",
            if self.lowercase { "lc" } else { "mixed" },
            if self.eps_smoothing { "no" } else { "yes" },
            self.char_order,
            if self.whitespace { "yes" } else { "no" },
        )
    }

    /// Corpus chrF of (hypothesis, reference) pairs, one reference each.
    pub fn corpus_score<H: AsRef<str>, R: AsRef<str>>(&self, pairs: &[(H, R)]) -> f64 {
        let mut sum = ChrfStats(vec![[0; 3]; self.char_order]);
        for (h, r) in pairs {
            sum.add(&self.segment_stats(h.as_ref(), &[r.as_ref()]));
        }
        self.score_stats(&sum)
    }

    /// Corpus chrF of hypotheses with one or more references each.
    pub fn corpus_score_multi<H: AsRef<str>, R: AsRef<str>>(
        &self,
        segments: &[(H, Vec<R>)],
    ) -> f64 {
        let mut sum = ChrfStats(vec![[0; 3]; self.char_order]);
        for (h, refs) in segments {
            let refs: Vec<&str> = refs.iter().map(AsRef::as_ref).collect();
            sum.add(&self.segment_stats(h.as_ref(), &refs));
        }
        self.score_stats(&sum)
    }

    /// One segment's statistics: those against the reference with the best segment score (the
    /// first on a tie; all zero without references).
    pub fn segment_stats(&self, hypothesis: &str, references: &[&str]) -> ChrfStats {
        let hyp = self.char_ngrams(hypothesis);
        let mut best = (-1.0, ChrfStats(vec![[0; 3]; self.char_order]));
        for r in references {
            let refs = self.char_ngrams(r);
            let stats = ChrfStats(
                hyp.iter()
                    .zip(&refs)
                    .map(|(h, r)| match_statistics(h, r))
                    .collect(),
            );
            let f = self.score_stats(&stats);
            if f > best.0 {
                best = (f, stats);
            }
        }
        best.1
    }

    /// The score of (summed) statistics: sacrebleu's `_compute_f_score`, step for step.
    pub fn score_stats(&self, stats: &ChrfStats) -> f64 {
        const EPS: f64 = 1e-16;
        let factor = f64::from(self.beta * self.beta);
        let (mut score, mut avg_prec, mut avg_rec) = (0.0, 0.0, 0.0);
        let mut effective_order = 0usize;
        for &[n_hyp, n_ref, n_match] in &stats.0 {
            let prec = if n_hyp > 0 {
                n_match as f64 / n_hyp as f64
            } else {
                EPS
            };
            let rec = if n_ref > 0 {
                n_match as f64 / n_ref as f64
            } else {
                EPS
            };
            let denom = factor * prec + rec;
            score += if denom > 0.0 {
                (1.0 + factor) * prec * rec / denom
            } else {
                EPS
            };
            if n_hyp > 0 && n_ref > 0 {
                avg_prec += prec;
                avg_rec += rec;
                effective_order += 1;
            }
        }
        if self.eps_smoothing {
            return 100.0 * score / stats.0.len() as f64;
        }
        if effective_order == 0 {
            (avg_prec, avg_rec) = (0.0, 0.0);
        } else {
            avg_prec /= effective_order as f64;
            avg_rec /= effective_order as f64;
        }
        if avg_prec + avg_rec != 0.0 {
            let score = (1.0 + factor) * avg_prec * avg_rec;
            100.0 * (score / (factor * avg_prec + avg_rec))
        } else {
            0.0
        }
    }

    /// Counts of the character n-grams of orders 1..=char_order (`extract_all_char_ngrams`), on
    /// characters (code points, as Python indexes strings).
    fn char_ngrams(&self, s: &str) -> Vec<HashMap<String, u64>> {
        let lowered;
        let s = if self.lowercase {
            lowered = s.to_lowercase();
            &lowered
        } else {
            s
        };
        let chars: Vec<char> = if self.whitespace {
            s.chars().collect()
        } else {
            pystr::split(s).flat_map(str::chars).collect()
        };
        (1..=self.char_order)
            .map(|n| {
                let mut counts = HashMap::new();
                for gram in chars.windows(n) {
                    *counts.entry(gram.iter().collect::<String>()).or_default() += 1;
                }
                counts
            })
            .collect()
    }
}

impl ChrfStats {
    /// Adds another segment's statistics.
    pub fn add(&mut self, other: &ChrfStats) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            for k in 0..3 {
                a[k] += b[k];
            }
        }
    }
}

/// sacrebleu's `_get_match_statistics`: a hypothesis n-gram counts only where the reference has
/// n-grams of that order at all.
fn match_statistics(hyp: &HashMap<String, u64>, reference: &HashMap<String, u64>) -> [u64; 3] {
    let (mut matched, mut hyp_count) = (0, 0);
    for (gram, &count) in hyp {
        hyp_count += count;
        if let Some(&r) = reference.get(gram) {
            matched += count.min(r);
        }
    }
    [
        if reference.is_empty() { 0 } else { hyp_count },
        reference.values().sum(),
        matched,
    ]
}

/// Default corpus chrF (sacrebleu's `CHRF()`) of (hypothesis, reference) pairs.
pub fn corpus_chrf<H: AsRef<str>, R: AsRef<str>>(pairs: &[(H, R)]) -> f64 {
    ChrfConfig::default().corpus_score(pairs)
}

#[cfg(test)]
mod tests {
    //! sacrebleu's own chrF test cases (test/test_chrf.py at 2.6.0) with its expected values
    //! and tolerance.
    use super::*;

    /// test_chrf.py's `EPSILON` (its expected values are rounded).
    const EPSILON: f64 = 1e-4;

    fn beta3(eps_smoothing: bool, whitespace: bool) -> ChrfConfig {
        ChrfConfig {
            beta: 3,
            eps_smoothing,
            whitespace,
            ..ChrfConfig::default()
        }
    }

    fn check(config: &ChrfConfig, hyps: &[&str], refs: &[&str], want: f64) {
        let pairs: Vec<(&str, &str)> = hyps.iter().copied().zip(refs.iter().copied()).collect();
        let got = config.corpus_score(&pairs);
        assert!(
            (got - want).abs() < EPSILON,
            "{config:?} {pairs:?}: {got} != {want}"
        );
    }

    #[test]
    fn eps_smoothing_cases() {
        let cases: &[(&[&str], &[&str], f64)] = &[
            (&["abcdefg"], &["hijklmnop"], 0.0),
            (&["a"], &["b"], 0.0),
            (&[""], &["b"], 0.0),
            (&[""], &["ref"], 0.0),
            (&[""], &["reference"], 0.0),
            (&["aa"], &["ab"], 8.3333),
            (&["a", "b"], &["a", "c"], 8.3333),
            (&["a"], &["a"], 16.6667),
            (&["a b c"], &["a b c"], 50.0),
            (&["a b c"], &["abc"], 50.0),
            (
                &[
                    " risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .",
                ],
                &[
                    "risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .",
                ],
                63.361730,
            ),
            (
                &[" Die    Beziehung zwischen  Obama und Netanjahu ist nicht gerade  freundlich. "],
                &["Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."],
                64.1302698,
            ),
            (
                &["Niemand hat die Absicht, eine Mauer zu errichten"],
                &["Niemand hat die Absicht, eine Mauer zu errichten"],
                100.0,
            ),
        ];
        for (h, r, want) in cases {
            check(&beta3(true, false), h, r, *want);
        }
    }

    #[test]
    fn effective_order_cases() {
        let cases: &[(&[&str], &[&str], f64)] = &[
            (&["a"], &["a"], 100.0),
            (&[""], &["reference"], 0.0),
            (&["a b c"], &["a b c"], 100.0),
            (&["a b c"], &["abc"], 100.0),
            (&[""], &["c"], 0.0),
            (&["a", "b"], &["a", "c"], 50.0),
            (&["aa"], &["ab"], 25.0),
        ];
        for (h, r, want) in cases {
            check(&beta3(false, false), h, r, *want);
        }
    }

    #[test]
    fn keep_whitespace_cases() {
        check(
            &beta3(false, true),
            &["Die Beziehung zwischen Obama und Netanjahu ist nicht gerade freundlich."],
            &["Das Verhältnis zwischen Obama und Netanyahu ist nicht gerade freundschaftlich."],
            67.3481606,
        );
        check(
            &beta3(false, true),
            &[
                "risk assessment must be made of those who are qualified and expertise in the sector - these are the scientists .",
            ],
            &[
                "risk assessment has to be undertaken by those who are qualified and expert in that area - that is the scientists .",
            ],
            65.2414427,
        );
    }

    #[test]
    fn sentence_level_cases() {
        // sentence_chrf(…, eps_smoothing=True) with the default beta 2.
        let config = ChrfConfig {
            eps_smoothing: true,
            ..ChrfConfig::default()
        };
        let cases = [
            (
                "Co nás nejvíc trápí, protože lékaři si vybírají, kdo bude žít a kdo zemře.",
                "Nejvíce smutní jsme z toho, že musíme rozhodovat o tom, kdo bude žít a kdo zemře.",
                39.14078509,
            ),
            (
                "Nebo prostě nemají vybavení, které by jim pomohlo, uvedli lékaři.",
                "A někdy nemáme ani potřebný materiál, abychom jim pomohli, popsali lékaři.",
                31.22557079,
            ),
            (
                "Lapali po dechu, jejich životy skončily dřív, než skutečně začaly.",
                "Lapali po dechu a pak jejich život skončil - dřív, než skutečně mohl začít, připomněli.",
                57.15704367,
            ),
        ];
        for (h, r, want) in cases {
            check(&config, &[h], &[r], want);
        }
    }

    #[test]
    fn signature_is_sacrebleus() {
        // Printed by sacrebleu 2.6.0's `CHRF().get_signature()` after one corpus_score.
        assert_eq!(
            ChrfConfig::default().signature(Some(1)),
            "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0"
        );
    }
}
