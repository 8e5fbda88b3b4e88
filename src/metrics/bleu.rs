//! Corpus BLEU (Papineni et al. 2002) exactly as sacrebleu 2.x computes it (`sacrebleu.BLEU`,
//! `metrics/bleu.py`, and its `13a` tokenizer, `tokenizers/tokenizer_13a.py`): each hypothesis and
//! reference is right-stripped and tokenized, word n-grams of orders 1..=4 are counted and clipped
//! by the reference counts (the maximum over a segment's references), and the counts, the
//! hypothesis length and the closest reference length are summed over the corpus before one score
//! is computed from the sums: the geometric mean of the n-gram precisions (in percent, smoothed),
//! times the brevity penalty. Scores are on sacrebleu's scale, 0 to 100.
//!
//! Why our own: the number is only comparable with published ones if it is sacrebleu's, and no
//! maintained Rust crate computes sacrebleu's BLEU (`bleuscore` follows Hugging Face `evaluate`'s
//! BLEU, tensorflow/nmt's `compute_bleu` with its own optional smoothing, and its README says its
//! results differ from sacrebleu's). The Python package itself is the oracle:
//! tests/it/generation/metrics.rs compares this file with it
//! (tests/reference/gen_metrics_reference.py, the version pinned in scripts/requirements-test.txt).

use super::pystr;
use std::collections::HashMap;

/// The sacrebleu release this file and `chrf.rs` are held to; it ends the signatures.
pub const SACREBLEU_VERSION: &str = "2.6.0";

/// sacrebleu's signature of the default BLEU with one reference per segment (what
/// `BleuConfig::default().signature(1)` returns), for runs.csv: a reader can reproduce the number
/// with `sacrebleu` and these settings.
pub const BLEU_SIGNATURE: &str = "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0";

/// sacrebleu's default maximum n-gram order.
pub const MAX_NGRAM_ORDER: usize = 4;

/// How segments are split into words before n-grams are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BleuTokenizer {
    /// `13a` (the default): mteval-v13a.pl's tokenization, as WMT uses it (`tokenize_13a`).
    Mteval13a,
    /// `none`: the text is only split on whitespace.
    Untokenized,
}

impl BleuTokenizer {
    fn signature(self) -> &'static str {
        match self {
            BleuTokenizer::Mteval13a => "13a",
            BleuTokenizer::Untokenized => "none",
        }
    }

    fn apply(self, line: &str) -> String {
        match self {
            BleuTokenizer::Mteval13a => tokenize_13a(line),
            BleuTokenizer::Untokenized => line.to_string(),
        }
    }
}

/// What replaces a zero n-gram precision (Chen and Cherry 2014, as sacrebleu names them).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Smoothing {
    /// `exp` (the default, mteval-v13a's): the k-th order without a match gets precision
    /// 100 / (2^k · total).
    Exp,
    /// `floor`: a zero precision becomes 100 · value / total (sacrebleu's default value 0.1).
    Floor(f64),
    /// `add-k`: orders above 1 get `value` added to their matches and totals (default 1).
    AddK(f64),
    /// `none`: a zero precision stays zero (and so does the score).
    Off,
}

impl Smoothing {
    fn signature(self) -> String {
        match self {
            Smoothing::Exp => "exp".into(),
            Smoothing::Floor(v) => format!("floor[{v:.2}]"),
            Smoothing::AddK(v) => format!("add-k[{v:.2}]"),
            Smoothing::Off => "none".into(),
        }
    }
}

/// The settings of `sacrebleu.BLEU(...)` that change the number; `Default` is sacrebleu's default.
#[derive(Debug, Clone, PartialEq)]
pub struct BleuConfig {
    /// Lowercase both sides first (`lowercase`, default false: case-sensitive).
    pub lowercase: bool,
    pub tokenizer: BleuTokenizer,
    pub smoothing: Smoothing,
    pub max_ngram_order: usize,
    /// Stop at the first order the hypotheses have no n-gram of (`effective_order`, default
    /// false; sacrebleu recommends true for sentence-level BLEU).
    pub effective_order: bool,
}

impl Default for BleuConfig {
    fn default() -> Self {
        BleuConfig {
            lowercase: false,
            tokenizer: BleuTokenizer::Mteval13a,
            smoothing: Smoothing::Exp,
            max_ngram_order: MAX_NGRAM_ORDER,
            effective_order: false,
        }
    }
}

/// A BLEU figure with its sufficient statistics, as sacrebleu's `BLEUScore` reports them.
#[derive(Debug, Clone, PartialEq)]
pub struct BleuScore {
    /// 0 to 100.
    pub score: f64,
    /// Clipped n-gram matches per order (1..=max order), summed over the corpus.
    pub counts: Vec<f64>,
    /// Hypothesis n-grams per order, summed over the corpus.
    pub totals: Vec<f64>,
    /// Per-order precisions in percent, after smoothing.
    pub precisions: Vec<f64>,
    /// Brevity penalty.
    pub bp: f64,
    /// Total hypothesis length in tokens.
    pub sys_len: u64,
    /// Total closest-reference length in tokens.
    pub ref_len: u64,
}

/// BLEU's sufficient statistics: summed over segments, they determine the corpus score.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BleuStats {
    pub sys_len: u64,
    pub ref_len: u64,
    /// Clipped matches per order.
    pub correct: Vec<u64>,
    /// Hypothesis n-grams per order.
    pub total: Vec<u64>,
}

impl BleuConfig {
    /// sacrebleu's signature string for these settings with `nrefs` references per segment
    /// (`None`: a variable number, written `var`).
    pub fn signature(&self, nrefs: Option<usize>) -> String {
        let nrefs = nrefs.map_or("var".to_string(), |n| n.to_string());
        format!(
            "nrefs:{nrefs}|case:{}|eff:{}|tok:{}|smooth:{}|version:{SACREBLEU_VERSION}",
            if self.lowercase { "lc" } else { "mixed" },
            if self.effective_order { "yes" } else { "no" },
            self.tokenizer.signature(),
            self.smoothing.signature(),
        )
    }

    /// Corpus BLEU of (hypothesis, reference) pairs, one reference each.
    pub fn corpus_score<H: AsRef<str>, R: AsRef<str>>(&self, pairs: &[(H, R)]) -> BleuScore {
        let mut sum = BleuStats::zero(self.max_ngram_order);
        for (h, r) in pairs {
            sum.add(&self.segment_stats(h.as_ref(), &[r.as_ref()]));
        }
        self.score_stats(&sum)
    }

    /// Corpus BLEU of hypotheses with one or more references each (sacrebleu's reference
    /// streams, read per segment). A segment needs a reference: sacrebleu raises on one without;
    /// here it matches nothing and its reference length is 0.
    pub fn corpus_score_multi<H: AsRef<str>, R: AsRef<str>>(
        &self,
        segments: &[(H, Vec<R>)],
    ) -> BleuScore {
        let mut sum = BleuStats::zero(self.max_ngram_order);
        for (h, refs) in segments {
            let refs: Vec<&str> = refs.iter().map(AsRef::as_ref).collect();
            sum.add(&self.segment_stats(h.as_ref(), &refs));
        }
        self.score_stats(&sum)
    }

    /// One segment's statistics against its references (`_compute_segment_statistics`).
    pub fn segment_stats(&self, hypothesis: &str, references: &[&str]) -> BleuStats {
        let order = self.max_ngram_order;
        let mut ref_ngrams: HashMap<Vec<String>, u64> = HashMap::new();
        let mut ref_lens = Vec::with_capacity(references.len());
        for r in references {
            let r = self.preprocess(r);
            let tokens: Vec<&str> = pystr::split(&r).collect();
            ref_lens.push(tokens.len() as u64);
            for (gram, count) in ngram_counts(&tokens, order) {
                let slot = ref_ngrams.entry(to_owned(gram)).or_default();
                *slot = (*slot).max(count);
            }
        }
        let h = self.preprocess(hypothesis);
        let tokens: Vec<&str> = pystr::split(&h).collect();
        let sys_len = tokens.len() as u64;
        let mut stats = BleuStats {
            sys_len,
            ref_len: closest_ref_len(sys_len, &ref_lens),
            ..BleuStats::zero(order)
        };
        for (gram, count) in ngram_counts(&tokens, order) {
            let n = gram.len() - 1;
            stats.total[n] += count;
            if let Some(&in_ref) = ref_ngrams.get(&to_owned(gram)) {
                stats.correct[n] += count.min(in_ref);
            }
        }
        stats
    }

    /// The score of (summed) statistics: sacrebleu's `compute_bleu`, step for step.
    pub fn score_stats(&self, stats: &BleuStats) -> BleuScore {
        let order = self.max_ngram_order;
        let mut correct: Vec<f64> = stats.correct.iter().map(|&c| c as f64).collect();
        let mut total: Vec<f64> = stats.total.iter().map(|&t| t as f64).collect();
        let (sys_len, ref_len) = (stats.sys_len, stats.ref_len);
        let bp = if sys_len < ref_len {
            if sys_len > 0 {
                (1.0 - ref_len as f64 / sys_len as f64).exp()
            } else {
                0.0
            }
        } else {
            1.0
        };
        let mut precisions = vec![0.0; order];
        let zero = |correct, total, precisions| BleuScore {
            score: 0.0,
            counts: correct,
            totals: total,
            precisions,
            bp,
            sys_len,
            ref_len,
        };
        // No match of any order: 0, whatever the smoothing (sacrebleu #141).
        if correct.iter().all(|&c| c == 0.0) {
            return zero(correct, total, precisions);
        }
        let mut smooth_mteval = 1.0;
        let mut eff_order = order;
        for n in 0..order {
            if let Smoothing::AddK(k) = self.smoothing
                && n > 0
            {
                correct[n] += k;
                total[n] += k;
            }
            if total[n] == 0.0 {
                break;
            }
            if self.effective_order {
                eff_order = n + 1;
            }
            if correct[n] == 0.0 {
                match self.smoothing {
                    Smoothing::Exp => {
                        smooth_mteval *= 2.0;
                        precisions[n] = 100.0 / (smooth_mteval * total[n]);
                    }
                    Smoothing::Floor(v) => precisions[n] = 100.0 * v / total[n],
                    Smoothing::AddK(_) | Smoothing::Off => {}
                }
            } else {
                precisions[n] = 100.0 * correct[n] / total[n];
            }
        }
        let log_sum: f64 = precisions[..eff_order]
            .iter()
            .map(|&p| floored_log(p))
            .sum();
        BleuScore {
            score: bp * (log_sum / eff_order as f64).exp(),
            counts: correct,
            totals: total,
            precisions,
            bp,
            sys_len,
            ref_len,
        }
    }

    fn preprocess(&self, s: &str) -> String {
        let lowered;
        let s = if self.lowercase {
            lowered = s.to_lowercase();
            &lowered
        } else {
            s
        };
        self.tokenizer.apply(pystr::rstrip(s))
    }
}

impl BleuStats {
    fn zero(order: usize) -> Self {
        BleuStats {
            correct: vec![0; order],
            total: vec![0; order],
            ..Default::default()
        }
    }

    /// Adds another segment's statistics (sacrebleu's `sum_of_lists`).
    pub fn add(&mut self, other: &BleuStats) {
        self.sys_len += other.sys_len;
        self.ref_len += other.ref_len;
        for (a, b) in self.correct.iter_mut().zip(&other.correct) {
            *a += b;
        }
        for (a, b) in self.total.iter_mut().zip(&other.total) {
            *a += b;
        }
    }
}

/// Default corpus BLEU (sacrebleu's defaults, signature `BLEU_SIGNATURE`) of (hypothesis,
/// reference) pairs.
pub fn corpus_bleu<H: AsRef<str>, R: AsRef<str>>(pairs: &[(H, R)]) -> BleuScore {
    BleuConfig::default().corpus_score(pairs)
}

/// sacrebleu's `my_log`: log, with log(0) floored to -9999999999 so a zero precision gives a
/// score of (almost exactly) 0 instead of an error.
fn floored_log(p: f64) -> f64 {
    if p == 0.0 { -9_999_999_999.0 } else { p.ln() }
}

/// The reference length closest to the hypothesis length, the shorter one on a tie; 0 without
/// references.
fn closest_ref_len(hyp_len: u64, ref_lens: &[u64]) -> u64 {
    let mut best: Option<(u64, u64)> = None;
    for &r in ref_lens {
        let diff = hyp_len.abs_diff(r);
        best = match best {
            Some((d, l)) if diff > d || (diff == d && r >= l) => Some((d, l)),
            _ => Some((diff, r)),
        };
    }
    best.map_or(0, |(_, l)| l)
}

/// Counts of every n-gram of orders 1..=max_order (`extract_all_word_ngrams`).
fn ngram_counts<'a>(tokens: &'a [&'a str], max_order: usize) -> HashMap<&'a [&'a str], u64> {
    let mut counts = HashMap::new();
    for n in 1..=max_order {
        for gram in tokens.windows(n) {
            *counts.entry(gram).or_default() += 1;
        }
    }
    counts
}

fn to_owned(gram: &[&str]) -> Vec<String> {
    gram.iter().map(|s| s.to_string()).collect()
}

/// sacrebleu's `13a` tokenizer (`Tokenizer13a`, then `TokenizerRegexp`): drops `<skipped>` and
/// hyphenated line breaks, joins lines, unescapes `&quot; &amp; &lt; &gt;`, then pads with spaces
/// ASCII symbols (everything in `{|}~ [\]^_` space !"#$%& ()*+ :;<=>?@ /`), periods and commas
/// not between digits, and a dash after a digit; whitespace is collapsed to single spaces.
pub fn tokenize_13a(line: &str) -> String {
    let mut line = line
        .replace("<skipped>", "")
        .replace("-\n", "")
        .replace('\n', " ");
    if line.contains('&') {
        line = line
            .replace("&quot;", "\"")
            .replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
    }
    let padded = format!(" {line} ");
    // `([\{-\~\[-\` -\&\(-\+\:-\@\/])` → ` \1 `
    let mut chars: Vec<char> = Vec::with_capacity(padded.len() * 2);
    for c in padded.chars() {
        if is_13a_symbol(c) {
            chars.extend([' ', c, ' ']);
        } else {
            chars.push(c);
        }
    }
    let digit = |c: char| c.is_ascii_digit();
    let dot_comma = |c: char| c == '.' || c == ',';
    // `([^0-9])([\.,])` → `\1 \2 `: a period or comma after a non-digit.
    let chars = substitute_pairs(
        &chars,
        |a, b| !digit(a) && dot_comma(b),
        |a, b| vec![a, ' ', b, ' '],
    );
    // `([\.,])([^0-9])` → ` \1 \2`: a period or comma before a non-digit.
    let chars = substitute_pairs(
        &chars,
        |a, b| dot_comma(a) && !digit(b),
        |a, b| vec![' ', a, ' ', b],
    );
    // `([0-9])(-)` → `\1 \2 `: a dash after a digit.
    let chars = substitute_pairs(
        &chars,
        |a, b| digit(a) && b == '-',
        |a, b| vec![a, ' ', b, ' '],
    );
    let s: String = chars.into_iter().collect();
    pystr::split(&s).collect::<Vec<_>>().join(" ")
}

/// The characters 13a's first rule pads: the ASCII ranges `{-~`, `[-``, ` -&`, `(-+`, `:-@` and
/// `/` (so not `'`, `,`, `-`, `.`, digits or letters).
fn is_13a_symbol(c: char) -> bool {
    matches!(c, '{'..='~' | '['..='`' | ' '..='&' | '('..='+' | ':'..='@' | '/')
}

/// `re.sub` of a two-character pattern: scanning left to right, a matching pair is replaced and
/// both characters are consumed (matches never overlap), otherwise one character is kept.
fn substitute_pairs(
    chars: &[char],
    matches: impl Fn(char, char) -> bool,
    replace: impl Fn(char, char) -> Vec<char>,
) -> Vec<char> {
    let mut out = Vec::with_capacity(chars.len() + chars.len() / 2);
    let mut i = 0;
    while i < chars.len() {
        if i + 1 < chars.len() && matches(chars[i], chars[i + 1]) {
            out.extend(replace(chars[i], chars[i + 1]));
            i += 2;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
#[path = "bleu_tests.rs"]
mod tests;
