//! Content keys: a stage's key is the first 16 hex digits of the sha256 of a canonical JSON
//! (sorted keys) of everything that determines the stage's output, its parents' keys included:
//! - tokenizer: its config and the corpora/datasets it is fitted on;
//! - vectors: the tokenizer's key and the dimension;
//! - pretrain: its config, encoder, embeddings, its data, its own seed (the run seed only with
//!   `replicate = true`) and its parent's key (the tokenizer, or the previous stage of a chain);
//! - downstream: its config, encoder, embeddings, dataset, the tokenizer key, the key of the
//!   pretraining it starts from (none for scratch) and the run seed (not `baseline`, which adds
//!   a stage of its own and changes nothing in this one);
//! - baseline: the task, the dataset and the solver's settings (no tokenizer, no seed: it is
//!   deterministic, so every seed and every cell with the same task and data share it).
//!
//! Names are not part of keys (renaming a stage keeps its cache), and neither are `device` and
//! `threads`. A key keeps the form its settings had before they grew: `pack = "stream"` (what
//! `pack = true` meant) is keyed as `true`, and `document` is left out where it is a line.

use super::types::NamedData;
use crate::baseline::LogisticConfig;
use crate::config::{DownstreamConfig, DownstreamTask, Experiment, PretrainConfig, VectorsConfig};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Bumped when the meaning of a stage's outputs changes, so old caches are not reused
/// (2: pretraining holds out a dev share).
pub const KEY_VERSION: u32 = 2;

/// What a tokenizer stage's key is made of.
pub(super) fn tokenizer_material(exp: &Experiment, fit_on: &[NamedData]) -> Value {
    json!({
        "stage": "tokenizer",
        "version": KEY_VERSION,
        "tokenizer": without(&exp.tokenizer, &["fit_on"]),
        "fit_on": fit_on.iter().map(|d| &d.source).collect::<Vec<_>>(),
    })
}

/// What a static-vectors stage's key is made of: the tokenizer (which fixes the texts), the
/// dimension and the `[vectors]` settings.
pub(super) fn vectors_material(tok_key: &str, dim: usize, vectors: &VectorsConfig) -> Value {
    json!({
        "stage": "vectors",
        "version": KEY_VERSION,
        "tokenizer": tok_key,
        "dim": dim,
        "vectors": vectors,
    })
}

/// `[vectors]` where the word embeddings come from static vectors (part of a training stage's
/// key then), nothing otherwise.
fn vectors_of(exp: &Experiment) -> Option<&VectorsConfig> {
    exp.embeddings.word.uses_vectors().then_some(&exp.vectors)
}

/// What a pretraining stage's key is made of; `seed` is the one it trains with (`None` for a
/// `replicate` stage in a cell signature).
pub(super) fn pretrain_material(
    exp: &Experiment,
    p: &PretrainConfig,
    data: &NamedData,
    seed: Option<u64>,
    tok_key: &str,
    previous: Option<&str>,
) -> Value {
    let mut config = without(p, &["data", "seed", "replicate"]);
    if let Value::Object(map) = &mut config {
        // `pack` was a bool; the mode it meant (`stream`) keeps its key value (`Pack::key_value`).
        map.insert("pack".into(), p.pack.key_value());
    }
    json!({
        "stage": "pretrain",
        "version": KEY_VERSION,
        "config": config,
        "encoder": exp.encoder,
        "embeddings": exp.embeddings,
        "data": data.source,
        "seed": seed,
        "tokenizer": tok_key,
        "previous": previous,
        "vectors": vectors_of(exp),
    })
}

/// What a downstream stage's key is made of; `seed` is the run seed (`None` in a cell signature).
pub(super) fn downstream_material(
    exp: &Experiment,
    d: &DownstreamConfig,
    data: &NamedData,
    seed: Option<u64>,
    tok_key: &str,
    pretrained: Option<&str>,
) -> Value {
    json!({
        "stage": "downstream",
        "version": KEY_VERSION,
        "config": without(d, &["data", "from", "baseline"]),
        "encoder": exp.encoder,
        "embeddings": exp.embeddings,
        "data": data.source,
        "seed": seed,
        "tokenizer": tok_key,
        "pretrained": pretrained,
        "vectors": vectors_of(exp),
    })
}

/// What a bag-of-words baseline stage's key is made of: the task, the dataset and the solver's
/// settings (a tagging baseline has none, but they are kept for one shape of key).
pub(super) fn baseline_material(task: DownstreamTask, data: &NamedData) -> Value {
    let solver = LogisticConfig::default();
    json!({
        "stage": "baseline",
        "version": KEY_VERSION,
        "task": task,
        "data": data.source,
        "c_grid": solver.grid,
        "max_iterations": solver.max_iterations,
        "gradient_tolerance": solver.gradient_tolerance,
    })
}

/// `value` as JSON without the named top-level fields.
fn without<T: Serialize>(value: &T, fields: &[&str]) -> Value {
    let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut v {
        for f in fields {
            map.remove(*f);
        }
    }
    v
}

/// First 16 hex digits of the sha256 of the canonical JSON of `material`.
pub fn stage_key(material: &Value) -> String {
    let mut text = String::new();
    canonical_json(material, &mut text);
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(digest)[..16].to_string()
}

/// Compact JSON with object keys sorted at every level, whatever map type serde_json was built with.
pub fn canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                canonical_json(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(v, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CorpusConfig, Pack};
    use crate::experiment::plan::DataSource;

    fn material(pack: &str) -> Value {
        let exp = Experiment::default();
        let p: PretrainConfig = toml::from_str(&format!("data = \"c\"\npack = {pack}")).unwrap();
        let data = NamedData {
            name: "c".into(),
            source: DataSource::Corpus(CorpusConfig {
                path: "c.txt".into(),
                filter: Default::default(),
                document: Default::default(),
            }),
        };
        pretrain_material(&exp, &p, &data, Some(1), "tok", None)
    }

    /// `pack` was a bool: what it meant keeps its key value, so a configuration that spells
    /// today's behaviour (`true`, `"stream"`, `false`) keeps its cached stages; the new modes
    /// get keys of their own; a corpus's default `document` is not in the key.
    #[test]
    fn pack_keeps_the_key_values_of_the_bool() {
        assert_eq!(material("true")["config"]["pack"], json!(true));
        assert_eq!(material("\"stream\"")["config"]["pack"], json!(true));
        assert_eq!(material("false")["config"]["pack"], json!(false));
        assert_eq!(material("\"masked\"")["config"]["pack"], json!("masked"));
        let keys: Vec<String> = ["true", "\"stream\"", "false", "\"documents\"", "\"masked\""]
            .iter()
            .map(|p| stage_key(&material(p)))
            .collect();
        assert_eq!(keys[0], keys[1]);
        let distinct: std::collections::BTreeSet<&String> = keys[1..].iter().collect();
        assert_eq!(distinct.len(), 4);
        assert_eq!(material("true")["data"].get("document"), None);
        assert_eq!(Pack::Stream.key_value(), json!(true));
    }
}
