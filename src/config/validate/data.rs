//! Rules of `[corpus.NAME]`, `[dataset.NAME]` (ratios, columns, `filter`) and `[tokenizer]`.

use super::{Violation, data_hint, violation};
use crate::config::data::{DatasetConfig, FilterConfig, SPECIAL_TOKENS, TokenizerKind};
use crate::config::experiment::Experiment;
use crate::config::limits;

/// Filters, split ratios and the split column: what the data module would refuse when it reads
/// the file, found here so that the message points at the key.
pub(super) fn check_data(exp: &Experiment) -> Result<(), Violation> {
    for (name, c) in &exp.corpus {
        check_filter("corpus", name, &c.filter)?;
    }
    for (name, d) in &exp.dataset {
        check_files(name, d)?;
        if let (Some(_), Some(_)) = (&d.split, &d.ratios) {
            return Err(violation(
                &["dataset", name, "ratios"],
                "give either a split column (split = \"COLUMN\") or ratios, not both",
            ));
        }
        if let Some(r) = d.ratios {
            let sum: f64 = r.iter().sum();
            if r.iter().any(|x| !(0.0..=1.0).contains(x)) || (sum - 1.0).abs() > 1e-6 || r[0] <= 0.0
            {
                return Err(violation(
                    &["dataset", name, "ratios"],
                    format!(
                        "{r:?}: expected three shares [train, dev, test] in [0, 1], train > 0, that sum to 1"
                    ),
                ));
            }
        }
        for (key, column) in [("text", &d.text), ("label", &d.label)] {
            if column.trim().is_empty() {
                return Err(violation(&["dataset", name, key], "names no column"));
            }
        }
        check_filter("dataset", name, &d.filter)?;
    }
    Ok(())
}

/// `path` (one file) or `train`/`dev`/`test` (one file per split), never both; split files need
/// `train` and take no split column or ratios.
fn check_files(name: &str, d: &DatasetConfig) -> Result<(), Violation> {
    let split_files: Vec<&str> = d
        .file_keys()
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| *k != "path")
        .collect();
    let Some(first) = split_files.first() else {
        if d.path.is_none() {
            return Err(violation(
                &["dataset", name],
                "names no data file: expected path = \"FILE\" (one file), or train = \"FILE\" with dev and test (one file per split)",
            ));
        }
        return Ok(());
    };
    if d.path.is_some() {
        return Err(violation(
            &["dataset", name, first],
            format!(
                "dataset.{name}.path is set too: give either path (one file, split by a column or ratios) or train/dev/test (one file per split), not both"
            ),
        ));
    }
    if d.train.is_none() {
        return Err(violation(
            &["dataset", name, first],
            format!(
                "one file per split needs dataset.{name}.train = \"FILE\" (dev and test may be left out)"
            ),
        ));
    }
    for (key, set) in [("split", d.split.is_some()), ("ratios", d.ratios.is_some())] {
        if set {
            return Err(violation(
                &["dataset", name, key],
                format!(
                    "with one file per split (dataset.{name}.{first}) the files are the splits, so {key} must not be set (hint: remove {key})"
                ),
            ));
        }
    }
    Ok(())
}

fn check_filter(section: &str, name: &str, f: &FilterConfig) -> Result<(), Violation> {
    let at = |key: &'static str| [section, name, "filter", key];
    if let (Some(lo), Some(hi)) = (f.min_chars, f.max_chars)
        && lo > hi
    {
        return Err(violation(
            &at("min_chars"),
            format!("{lo} is greater than max_chars = {hi}"),
        ));
    }
    if let (Some(lo), Some(hi)) = (f.min_words, f.max_words)
        && lo > hi
    {
        return Err(violation(
            &at("min_words"),
            format!("{lo} is greater than max_words = {hi}"),
        ));
    }
    for (key, share) in [
        ("min_cjk_share", f.min_cjk_share),
        ("min_latin_share", f.min_latin_share),
    ] {
        if let Some(v) = share
            && !(0.0..=1.0).contains(&v)
        {
            return Err(violation(
                &at(key),
                format!("{v} is not a share between 0 and 1"),
            ));
        }
    }
    if let Some(v) = f.fraction
        && !(v > 0.0 && v <= 1.0)
    {
        return Err(violation(&at("fraction"), format!("{v} is outside (0, 1]")));
    }
    for (key, pattern) in [("include", &f.include), ("exclude", &f.exclude)] {
        if let Some(p) = pattern
            && let Err(e) = regex::Regex::new(p)
        {
            // The regex crate's message spans lines (pattern, caret, reason); keep its last line.
            let reason = e.to_string();
            let reason = reason
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
                .to_string();
            return Err(violation(
                &at(key),
                format!("{p:?} is not a valid regular expression: {reason}"),
            ));
        }
    }
    Ok(())
}

pub(super) fn check_tokenizer(exp: &Experiment) -> Result<(), Violation> {
    let t = &exp.tokenizer;
    if t.kind == TokenizerKind::File {
        if t.path.is_none() {
            return Err(violation(
                &["tokenizer", "path"],
                "kind = \"file\" needs path = \"tokenizer.json\"",
            ));
        }
        return Ok(());
    }
    if t.vocab_size <= SPECIAL_TOKENS {
        return Err(violation(
            &["tokenizer", "vocab_size"],
            format!(
                "{} is too small: it must be larger than the {SPECIAL_TOKENS} special tokens ([PAD], [UNK], [CLS], [SEP], [MASK]) every vocabulary starts with",
                t.vocab_size
            ),
        ));
    }
    if t.vocab_size > limits::VOCAB_SIZE {
        return Err(violation(
            &["tokenizer", "vocab_size"],
            format!(
                "{} is more than the limit of {}",
                t.vocab_size,
                limits::VOCAB_SIZE
            ),
        ));
    }
    if t.fit_on.is_empty() {
        return Err(violation(
            &["tokenizer", "fit_on"],
            "names no corpus or dataset to fit the tokenizer on",
        ));
    }
    for name in &t.fit_on {
        if !exp.corpus.contains_key(name) && !exp.dataset.contains_key(name) {
            let hint = data_hint(exp, name, true);
            return Err(violation(
                &["tokenizer", "fit_on"],
                format!("unknown corpus or dataset '{name}'{hint}"),
            ));
        }
    }
    Ok(())
}
