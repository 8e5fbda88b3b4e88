//! Cross-field rules of a fully resolved experiment (one sweep cell): ranges, references between
//! sections, and combinations that cannot run. Types and unknown keys are checked earlier, by
//! deserialisation. The top-level keys and section names are checked here; each section's rules
//! live in their own file, in file-section order.

mod data;
mod downstream;
mod encoder;
mod pretrain;
mod stage;
mod vectors;
mod warnings;

use super::error::Hint;
use super::experiment::Experiment;
use super::limits;

pub use warnings::warnings;

/// A broken rule: the key path it is reported at and what is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub path: Vec<String>,
    pub message: String,
}

fn violation(path: &[&str], message: impl Into<String>) -> Violation {
    Violation {
        path: path.iter().map(|s| s.to_string()).collect(),
        message: message.into(),
    }
}

/// Checks every rule, returning the first violation in file-section order.
pub fn validate(exp: &Experiment) -> Result<(), Violation> {
    check_top(exp)?;
    check_names(exp)?;
    data::check_data(exp)?;
    data::check_tokenizer(exp)?;
    encoder::check_encoder(exp)?;
    vectors::check_vectors(exp)?;
    pretrain::check_pretrain(exp)?;
    downstream::check_downstream(exp)?;
    Ok(())
}

fn check_top(exp: &Experiment) -> Result<(), Violation> {
    let name_ok = !exp.name.is_empty()
        && !exp.name.starts_with('.')
        && exp
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
    if !name_ok {
        return Err(violation(
            &["name"],
            format!(
                "{:?} is not a usable name (letters, digits, '_', '-', '.'; it names the results folder)",
                exp.name
            ),
        ));
    }
    if exp.seeds.is_empty() {
        return Err(violation(&["seeds"], "needs at least one seed"));
    }
    for (i, s) in exp.seeds.iter().enumerate() {
        if exp.seeds[..i].contains(s) {
            return Err(violation(&["seeds"], format!("seed {s} appears twice")));
        }
    }
    if exp.threads == Some(0) {
        return Err(violation(
            &["threads"],
            "must be at least 1 (leave it out to use all cores)",
        ));
    }
    if let Some(t) = exp.threads
        && t > limits::THREADS
    {
        return Err(violation(
            &["threads"],
            format!("{t} is more than the limit of {}", limits::THREADS),
        ));
    }
    if exp.downstream.is_empty() {
        return Err(violation(
            &["downstream"],
            "the experiment has no [downstream.NAME] stage, so there is nothing to evaluate",
        ));
    }
    Ok(())
}

fn check_names(exp: &Experiment) -> Result<(), Violation> {
    let sections: [(&str, Vec<&String>); 4] = [
        ("corpus", exp.corpus.keys().collect()),
        ("dataset", exp.dataset.keys().collect()),
        ("pretrain", exp.pretrain.keys().collect()),
        ("downstream", exp.downstream.keys().collect()),
    ];
    for (section, names) in &sections {
        for name in names {
            let ok = name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                && !matches!(name.as_str(), "none" | "all");
            if !ok {
                return Err(violation(
                    &[section, name],
                    "a name may hold only letters, digits, '_' and '-', and may not be 'none' or 'all'",
                ));
            }
        }
    }
    if let Some(name) = exp.corpus.keys().find(|n| exp.dataset.contains_key(*n)) {
        return Err(violation(
            &["dataset", name],
            format!(
                "'{name}' names both a corpus and a dataset; references to it would be ambiguous"
            ),
        ));
    }
    Ok(())
}

fn data_hint(exp: &Experiment, name: &str, corpora_too: bool) -> Hint {
    let mut names: Vec<&String> = exp.dataset.keys().collect();
    if corpora_too {
        names.extend(exp.corpus.keys());
    }
    Hint::closest(name, &names)
}
