//! Filters: the cleaning and subsampling steps of `FilterConfig`, each reporting what it removed.
//!
//! Filters run in the order of `FilterConfig`'s fields: length in characters, length in words,
//! exact dedup, normalised dedup, CJK share, Latin share, regex include, regex exclude, seeded
//! fraction, then the per-split caps. Each step counts what it removed from what the steps before
//! it left, so the counts add up to the difference between input and output.
//!
//! For a labeled example the filtered text is `text`, or `text` + " " + `text_pair` for pairs.
//! Cleaning filters (length through regex) apply to every split; dedup runs over train, then dev,
//! then test, so a dev or test example that repeats a train example is removed (no leakage).
//! `fraction` subsamples a corpus, or only the train split of a dataset (learning-curve
//! ablations keep dev and test whole); `max_train`/`max_dev`/`max_test` cap a dataset's splits and
//! `max_examples` caps a corpus (keeping the first ones).

use crate::config::FilterConfig;
use crate::data::error::{DataError, Result};
use crate::data::source::{Example, Split};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;

/// What the filters did: how many items are left, and per active filter how many it removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct FilterReport {
    pub kept: usize,
    /// (filter name, number removed), in the order the filters ran; only configured filters appear.
    pub removed: Vec<(String, usize)>,
}

impl FilterReport {
    pub fn removed_total(&self) -> usize {
        self.removed.iter().map(|(_, n)| n).sum()
    }

    /// How many a named filter removed (0 if it did not run).
    pub fn removed_by(&self, filter: &str) -> usize {
        self.removed
            .iter()
            .filter(|(f, _)| f == filter)
            .map(|(_, n)| n)
            .sum()
    }

    fn add(&mut self, filter: &str, n: usize) {
        self.removed.push((filter.to_string(), n));
    }

    /// The report as metrics: `{prefix}kept` and `{prefix}removed.{filter}` for each filter.
    pub fn metrics(&self, prefix: &str) -> Vec<(String, f64)> {
        std::iter::once((format!("{prefix}kept"), self.kept as f64))
            .chain(
                self.removed
                    .iter()
                    .map(|(f, n)| (format!("{prefix}removed.{f}"), *n as f64)),
            )
            .collect()
    }

    /// One line for messages and logs: "kept 120; removed min_chars 3, dedup 2".
    pub fn summary(&self) -> String {
        let removed: Vec<String> = self
            .removed
            .iter()
            .map(|(f, n)| format!("{f} {n}"))
            .collect();
        if removed.is_empty() {
            format!("kept {}", self.kept)
        } else {
            format!("kept {}; removed {}", self.kept, removed.join(", "))
        }
    }
}

/// Share of CJK characters (Han, kana, Hangul, CJK punctuation, full-width forms) among the
/// non-whitespace characters; 0 for a text without any.
pub fn cjk_share(text: &str) -> f64 {
    share(text, is_cjk)
}

/// Share of Latin letters (ASCII and the Latin supplements and extensions) among the
/// non-whitespace characters; 0 for a text without any.
pub fn latin_share(text: &str) -> f64 {
    share(text, is_latin)
}

fn share(text: &str, pred: fn(char) -> bool) -> f64 {
    let (mut hit, mut all) = (0usize, 0usize);
    for c in text.chars().filter(|c| !c.is_whitespace()) {
        all += 1;
        hit += pred(c) as usize;
    }
    if all == 0 {
        0.0
    } else {
        hit as f64 / all as f64
    }
}

pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF      // Hangul Jamo
        | 0x2E80..=0x2FDF    // CJK radicals, Kangxi radicals
        | 0x3000..=0x303F    // CJK symbols and punctuation
        | 0x3040..=0x30FF    // Hiragana, Katakana
        | 0x3100..=0x31FF    // Bopomofo, Hangul compatibility Jamo, Kanbun, ...
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0xFF00..=0xFFEF    // half-width and full-width forms
        | 0x20000..=0x3134F) // CJK extensions B-G
}

pub fn is_latin(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(c as u32, 0x00C0..=0x024F | 0x1E00..=0x1EFF if c != '\u{D7}' && c != '\u{F7}')
}

/// Key for normalised dedup: lowercased, runs of non-alphanumeric characters folded to one space.
pub fn normalized_key(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut gap = false;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    out
}

/// A per-item filter: its name and whether it keeps a text.
type Check<'a> = (&'static str, Box<dyn Fn(&str) -> bool + 'a>);

/// A validated filter configuration with its regular expressions compiled.
#[derive(Debug, Clone)]
pub struct Filters {
    cfg: FilterConfig,
    include: Option<regex::Regex>,
    exclude: Option<regex::Regex>,
}

fn regex(filter: &'static str, pattern: &Option<String>) -> Result<Option<regex::Regex>> {
    pattern
        .as_ref()
        .map(|p| {
            regex::Regex::new(p).map_err(|e| DataError::Regex {
                filter,
                pattern: p.clone(),
                message: e.to_string(),
            })
        })
        .transpose()
}

impl Filters {
    /// Checks the configuration (ranges, min ≤ max, regexes) and compiles it.
    pub fn new(cfg: &FilterConfig) -> Result<Filters> {
        let bad = |message: String| {
            Err(DataError::InvalidConfig {
                what: "filter".into(),
                message,
            })
        };
        if let (Some(lo), Some(hi)) = (cfg.min_chars, cfg.max_chars)
            && lo > hi
        {
            return bad(format!("min_chars ({lo}) is greater than max_chars ({hi})"));
        }
        if let (Some(lo), Some(hi)) = (cfg.min_words, cfg.max_words)
            && lo > hi
        {
            return bad(format!("min_words ({lo}) is greater than max_words ({hi})"));
        }
        for (name, v) in [
            ("min_cjk_share", cfg.min_cjk_share),
            ("min_latin_share", cfg.min_latin_share),
        ] {
            if let Some(v) = v
                && !(0.0..=1.0).contains(&v)
            {
                return bad(format!("{name} = {v}: expected a share between 0 and 1"));
            }
        }
        if let Some(f) = cfg.fraction
            && !(f > 0.0 && f <= 1.0)
        {
            return bad(format!("fraction = {f}: expected a number in (0, 1]"));
        }
        Ok(Filters {
            include: regex("include", &cfg.include)?,
            exclude: regex("exclude", &cfg.exclude)?,
            cfg: cfg.clone(),
        })
    }

    /// The per-item checks in order, as (name, keep?) closures over a text.
    fn item_checks(&self) -> Vec<Check<'_>> {
        let c = &self.cfg;
        let mut checks: Vec<Check<'_>> = Vec::new();
        if let Some(n) = c.min_chars {
            checks.push(("min_chars", Box::new(move |t| t.chars().count() >= n)));
        }
        if let Some(n) = c.max_chars {
            checks.push(("max_chars", Box::new(move |t| t.chars().count() <= n)));
        }
        if let Some(n) = c.min_words {
            checks.push((
                "min_words",
                Box::new(move |t| t.split_whitespace().count() >= n),
            ));
        }
        if let Some(n) = c.max_words {
            checks.push((
                "max_words",
                Box::new(move |t| t.split_whitespace().count() <= n),
            ));
        }
        if c.dedup {
            let seen = std::cell::RefCell::new(HashSet::<String>::new());
            checks.push((
                "dedup",
                Box::new(move |t| seen.borrow_mut().insert(t.to_string())),
            ));
        }
        if c.dedup_normalized {
            let seen = std::cell::RefCell::new(HashSet::<String>::new());
            checks.push((
                "dedup_normalized",
                Box::new(move |t| seen.borrow_mut().insert(normalized_key(t))),
            ));
        }
        if let Some(s) = c.min_cjk_share {
            checks.push(("min_cjk_share", Box::new(move |t| cjk_share(t) >= s)));
        }
        if let Some(s) = c.min_latin_share {
            checks.push(("min_latin_share", Box::new(move |t| latin_share(t) >= s)));
        }
        if let Some(r) = &self.include {
            checks.push(("include", Box::new(move |t| r.is_match(t))));
        }
        if let Some(r) = &self.exclude {
            checks.push(("exclude", Box::new(move |t| !r.is_match(t))));
        }
        checks
    }

    /// Runs the per-item filters (length to regex) over `items` in order.
    fn clean<T>(
        &self,
        items: Vec<T>,
        text: impl Fn(&T) -> std::borrow::Cow<'_, str>,
        report: &mut FilterReport,
    ) -> Vec<T> {
        let mut items = items;
        for (name, keep) in self.item_checks() {
            let before = items.len();
            items.retain(|it| keep(&text(it)));
            report.add(name, before - items.len());
        }
        items
    }

    /// Filters a corpus (one document per line).
    pub fn apply_corpus(&self, lines: Vec<String>) -> Result<(Vec<String>, FilterReport)> {
        self.apply_corpus_by(lines, |l| l.as_str())
    }

    /// Filters a corpus's lines carried in items of any kind (a line with its document, say),
    /// `text` giving each item's line.
    pub fn apply_corpus_by<T>(
        &self,
        lines: Vec<T>,
        text: impl Fn(&T) -> &str,
    ) -> Result<(Vec<T>, FilterReport)> {
        let c = &self.cfg;
        for (name, v) in [
            ("max_train", c.max_train),
            ("max_dev", c.max_dev),
            ("max_test", c.max_test),
        ] {
            if v.is_some() {
                return Err(DataError::InvalidConfig {
                    what: "filter".into(),
                    message: format!(
                        "{name} applies to datasets; a corpus is capped with max_examples"
                    ),
                });
            }
        }
        let mut report = FilterReport::default();
        let mut lines = self.clean(lines, |l| std::borrow::Cow::Borrowed(text(l)), &mut report);
        if let Some(f) = c.fraction {
            let before = lines.len();
            lines = fraction(lines, f, c.fraction_seed);
            report.add("fraction", before - lines.len());
        }
        if let Some(n) = c.max_examples {
            let before = lines.len();
            lines.truncate(n);
            report.add("max_examples", before - lines.len());
        }
        report.kept = lines.len();
        Ok((lines, report))
    }

    /// Filters a dataset's splits (given and returned in the order train, dev, test).
    pub fn apply_splits(
        &self,
        splits: [Vec<Example>; 3],
    ) -> Result<([Vec<Example>; 3], FilterReport)> {
        self.apply_splits_by(splits, |e| e)
    }

    /// Filters a dataset's splits of examples carried in items of any kind (an example with its
    /// document, say), `example` giving each item's example.
    pub fn apply_splits_by<T>(
        &self,
        splits: [Vec<T>; 3],
        example: impl Fn(&T) -> &Example,
    ) -> Result<([Vec<T>; 3], FilterReport)> {
        let c = &self.cfg;
        if c.max_examples.is_some() {
            return Err(DataError::InvalidConfig {
                what: "filter".into(),
                message: "max_examples applies to corpora; a dataset is capped with max_train, max_dev, max_test".into(),
            });
        }
        let mut report = FilterReport::default();
        let flat: Vec<(Split, T)> = Split::ALL
            .into_iter()
            .zip(splits)
            .flat_map(|(s, v)| v.into_iter().map(move |e| (s, e)))
            .collect();
        let flat = self.clean(flat, |(_, e)| filter_text(example(e)), &mut report);
        let mut out: [Vec<T>; 3] = Default::default();
        for (s, e) in flat {
            out[s as usize].push(e);
        }
        if let Some(f) = c.fraction {
            let train = std::mem::take(&mut out[0]);
            let before = train.len();
            out[0] = fraction(train, f, c.fraction_seed);
            report.add("fraction", before - out[0].len());
        }
        for (i, (name, cap)) in [
            ("max_train", c.max_train),
            ("max_dev", c.max_dev),
            ("max_test", c.max_test),
        ]
        .into_iter()
        .enumerate()
        {
            if let Some(n) = cap {
                let before = out[i].len();
                out[i].truncate(n);
                report.add(name, before - out[i].len());
            }
        }
        report.kept = out.iter().map(Vec::len).sum();
        Ok((out, report))
    }
}

/// The text a filter looks at: `text`, or `text text_pair` for a pair.
pub fn filter_text(e: &Example) -> std::borrow::Cow<'_, str> {
    match &e.text_pair {
        None => std::borrow::Cow::Borrowed(e.text.as_str()),
        Some(p) => std::borrow::Cow::Owned(format!("{} {}", e.text, p)),
    }
}

/// Keeps a seeded random subset of exactly round(n·f) items (at least one), in their order.
fn fraction<T>(items: Vec<T>, f: f64, seed: u64) -> Vec<T> {
    let n = items.len();
    if n == 0 || f >= 1.0 {
        return items;
    }
    let k = ((n as f64 * f).round() as usize).clamp(1, n);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut chosen = rand::seq::index::sample(&mut rng, n, k).into_vec();
    chosen.sort_unstable();
    let mut keep = vec![false; n];
    for i in chosen {
        keep[i] = true;
    }
    items
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(t, _)| t)
        .collect()
}

/// Filters a corpus with `cfg`; an empty result is an error naming `what`.
pub fn filter_corpus(
    what: &str,
    lines: Vec<String>,
    cfg: &FilterConfig,
) -> Result<(Vec<String>, FilterReport)> {
    let (lines, report) = Filters::new(cfg)?.apply_corpus(lines)?;
    if lines.is_empty() {
        return Err(DataError::EmptyAfterFilter {
            what: what.to_string(),
            report: report.summary(),
        });
    }
    Ok((lines, report))
}
