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
//! `pack = true` meant) is keyed as `true` (`Pack::key_value`), and `document` is left out where
//! it is a line (`skip_serializing_if`).
//!
//! **Keeping keys stable.** The material holds whole config structs as serde serialises them, so a
//! new config field that serialises at its default would change every existing key and throw
//! away every cache. A new field must therefore leave the material unchanged at its default:
//! `#[serde(skip_serializing_if = ...)]` for the default value, as `layer_decay`, `window_pool`
//! or `tie_output` have. The test `material_at_defaults_holds_todays_fields` below enforces it:
//! it builds every stage kind's material from configs at their defaults (an optional table such
//! as `probe` present, so its fields are read too), walks every struct in it and fails, naming
//! the struct and the field, when a field appears that today's keys do not hold (or one they hold
//! disappears). `tests/it/plan/keys.rs` pins the literal keys of two experiments that between them
//! have every stage kind.
//!
//! Why a test and not a key builder that drops fields at their defaults: such a builder must
//! still give today's keys, so it could drop only fields that today's keys do not hold, which
//! means a frozen list of today's fields kept in the production path forever, a default instance
//! of every struct (`DownstreamConfig` and `CorpusConfig` have required fields) and key material
//! that no longer matches the config a run writes (`config.toml`, `plan --json`). With
//! `skip_serializing_if` the written config, the plan's JSON and the key agree, and the frozen
//! list lives in a test, where a failure says what to add.

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
    use crate::config::{CorpusConfig, DatasetConfig, Probe, WordEmbedding};
    use crate::experiment::plan::types::DataSource;
    use serde::de::DeserializeOwned;

    /// A field's name and, for a nested table, the name of the struct it holds.
    type Field = (&'static str, Option<&'static str>);

    /// The fields each struct in a key's material holds at its defaults today, with the struct a
    /// nested table holds. `material …` are the tables `json!` builds above. Do not add a field
    /// here to make the test pass: that changes every existing key. Give the field
    /// `skip_serializing_if` for its default instead.
    const TODAY: &[(&str, &[Field])] = &[
        (
            "material tokenizer",
            &[
                ("stage", None),
                ("version", None),
                ("tokenizer", Some("TokenizerConfig")),
                ("fit_on", Some("DataSource")),
            ],
        ),
        (
            "material vectors",
            &[
                ("stage", None),
                ("version", None),
                ("tokenizer", None),
                ("dim", None),
                ("vectors", Some("VectorsConfig")),
            ],
        ),
        (
            "material pretrain",
            &[
                ("stage", None),
                ("version", None),
                ("config", Some("PretrainConfig")),
                ("encoder", Some("EncoderConfig")),
                ("embeddings", Some("EmbeddingsConfig")),
                ("data", Some("DataSource")),
                ("seed", None),
                ("tokenizer", None),
                ("previous", None),
                ("vectors", Some("VectorsConfig")),
            ],
        ),
        (
            "material downstream",
            &[
                ("stage", None),
                ("version", None),
                ("config", Some("DownstreamConfig")),
                ("encoder", Some("EncoderConfig")),
                ("embeddings", Some("EmbeddingsConfig")),
                ("data", Some("DataSource")),
                ("seed", None),
                ("tokenizer", None),
                ("pretrained", None),
                ("vectors", Some("VectorsConfig")),
            ],
        ),
        (
            "material baseline",
            &[
                ("stage", None),
                ("version", None),
                ("task", None),
                ("data", Some("DataSource")),
                ("c_grid", None),
                ("max_iterations", None),
                ("gradient_tolerance", None),
            ],
        ),
        (
            // Without `fit_on`, which the material holds as data sources.
            "TokenizerConfig",
            &[
                ("kind", None),
                ("vocab_size", None),
                ("lowercase", None),
                ("min_frequency", None),
                ("path", None),
            ],
        ),
        (
            "VectorsConfig",
            &[
                ("window", None),
                ("epochs", None),
                ("negatives", None),
                ("subsample", None),
                ("lr", None),
            ],
        ),
        (
            // Without `data`, `seed` and `replicate`, which the material holds otherwise.
            "PretrainConfig",
            &[
                ("task", None),
                ("path", None),
                ("steps", None),
                ("batch_size", None),
                ("seq_len", None),
                ("mask_prob", None),
                ("optimizer", Some("OptimizerConfig")),
                ("pack", None),
            ],
        ),
        (
            // Without `data`, `from` and `baseline`.
            "DownstreamConfig",
            &[
                ("task", None),
                ("transfer", None),
                ("layers", None),
                ("epochs", None),
                ("batch_size", None),
                ("seq_len", None),
                ("pooling", None),
                ("optimizer", Some("OptimizerConfig")),
                ("patience", None),
                ("probe", Some("Probe")),
            ],
        ),
        ("Probe", &[]),
        (
            "OptimizerConfig",
            &[
                ("kind", None),
                ("lr", None),
                ("warmup", None),
                ("weight_decay", None),
                ("momentum", None),
                ("clip_norm", None),
                ("schedule", None),
            ],
        ),
        (
            "EncoderConfig",
            &[
                ("depth", None),
                ("d_model", None),
                ("heads", None),
                ("ffn", None),
                ("dropout", None),
                ("max_len", None),
                ("activation", None),
                ("norm", None),
            ],
        ),
        (
            "EmbeddingsConfig",
            &[("word", None), ("position", None), ("segment", None)],
        ),
        (
            // `type` is `DataSource`'s tag.
            "CorpusConfig",
            &[
                ("type", None),
                ("path", None),
                ("filter", Some("FilterConfig")),
            ],
        ),
        (
            "DatasetConfig",
            &[
                ("type", None),
                ("text", None),
                ("text_pair", None),
                ("label", None),
                ("split", None),
                ("ratios", None),
                ("split_seed", None),
                ("filter", Some("FilterConfig")),
            ],
        ),
        (
            "FilterConfig",
            &[
                ("min_chars", None),
                ("max_chars", None),
                ("min_words", None),
                ("max_words", None),
                ("dedup", None),
                ("dedup_normalized", None),
                ("min_cjk_share", None),
                ("min_latin_share", None),
                ("include", None),
                ("exclude", None),
                ("fraction", None),
                ("fraction_seed", None),
                ("max_train", None),
                ("max_dev", None),
                ("max_test", None),
                ("max_examples", None),
            ],
        ),
    ];

    /// A struct from the keys serde fills in by default, with `required` set.
    fn at_defaults<T: DeserializeOwned>(required: Value) -> T {
        serde_json::from_value(required).expect("the required keys make a whole struct")
    }

    /// Every stage kind's material, from configs at their defaults: static vectors on (so the
    /// training stages hold `[vectors]`), `probe` present (so its fields are read), one corpus
    /// and one dataset.
    fn materials_at_defaults() -> Vec<(&'static str, Value)> {
        let mut exp = Experiment::default();
        exp.embeddings.word = WordEmbedding::Static;
        let pretrain: PretrainConfig = at_defaults(json!({}));
        let mut downstream: DownstreamConfig = at_defaults(json!({ "data": "d" }));
        downstream.probe = Some(Probe::default());
        let corpus = NamedData {
            name: "c".into(),
            source: DataSource::Corpus(at_defaults::<CorpusConfig>(json!({ "path": "c.txt" }))),
        };
        let dataset = NamedData {
            name: "d".into(),
            source: DataSource::Dataset(at_defaults::<DatasetConfig>(json!({}))),
        };
        vec![
            (
                "material tokenizer",
                tokenizer_material(&exp, &[corpus.clone(), dataset.clone()]),
            ),
            (
                "material vectors",
                vectors_material("t", 16, &VectorsConfig::default()),
            ),
            (
                "material pretrain",
                pretrain_material(&exp, &pretrain, &corpus, Some(0), "t", Some("p")),
            ),
            (
                "material downstream",
                downstream_material(&exp, &downstream, &dataset, Some(1), "t", Some("p")),
            ),
            (
                "material baseline",
                baseline_material(DownstreamTask::Classify, &dataset),
            ),
        ]
    }

    /// What differs between `value` and the fields `TODAY` lists for `name`, one line each.
    fn check(value: &Value, name: &str, out: &mut Vec<String>) {
        let name = match (name, value.get("type").and_then(Value::as_str)) {
            ("DataSource", Some("corpus")) => "CorpusConfig",
            ("DataSource", Some("dataset")) => "DatasetConfig",
            (name, _) => name,
        };
        let Some((_, fields)) = TODAY.iter().find(|(n, _)| *n == name) else {
            out.push(format!("{name} is not in TODAY"));
            return;
        };
        let Value::Object(map) = value else {
            out.push(format!("{name} serialises as {value}, not as a table"));
            return;
        };
        for (field, v) in map {
            match fields.iter().find(|(f, _)| f == field) {
                None => out.push(format!(
                    "{name}.{field} enters the stage keys at its default ({v}): add \
                     skip_serializing_if for its default, or every existing key changes"
                )),
                Some((_, Some(inner))) => match v {
                    Value::Array(items) => items.iter().for_each(|i| check(i, inner, out)),
                    Value::Null => {}
                    table => check(table, inner, out),
                },
                Some((_, None)) if v.is_object() => out.push(format!(
                    "{name}.{field} is a table the key test does not walk: add its struct to TODAY"
                )),
                Some((_, None)) => {}
            }
        }
        for (field, _) in fields.iter() {
            if !map.contains_key(*field) {
                out.push(format!(
                    "{name}.{field} left the stage keys at its default: every existing key changes"
                ));
            }
        }
    }

    fn differences(materials: &[(&str, Value)]) -> Vec<String> {
        let mut out = Vec::new();
        for (name, m) in materials {
            check(m, name, &mut out);
        }
        out.sort();
        out
    }

    #[test]
    fn material_at_defaults_holds_todays_fields() {
        let found = differences(&materials_at_defaults());
        assert!(found.is_empty(), "{}", found.join("\n"));
    }

    #[test]
    fn a_new_field_at_its_default_is_named() {
        let mut materials = materials_at_defaults();
        // As if `OptimizerConfig` and `FilterConfig` had gained a field without
        // `skip_serializing_if`, and `EncoderConfig` had lost one.
        let (_, m) = materials
            .iter_mut()
            .find(|(name, _)| *name == "material downstream")
            .unwrap();
        m["config"]["optimizer"]["nesterov"] = json!(false);
        m["data"]["filter"]["max_lines"] = Value::Null;
        m["encoder"].as_object_mut().unwrap().remove("norm");
        assert_eq!(
            differences(&materials),
            [
                "EncoderConfig.norm left the stage keys at its default: every existing key changes",
                "FilterConfig.max_lines enters the stage keys at its default (null): add \
                 skip_serializing_if for its default, or every existing key changes",
                "OptimizerConfig.nesterov enters the stage keys at its default (false): add \
                 skip_serializing_if for its default, or every existing key changes",
            ]
        );
    }

    fn pack_material(pack: &str) -> Value {
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
        assert_eq!(pack_material("true")["config"]["pack"], json!(true));
        assert_eq!(pack_material("\"stream\"")["config"]["pack"], json!(true));
        assert_eq!(pack_material("false")["config"]["pack"], json!(false));
        assert_eq!(
            pack_material("\"masked\"")["config"]["pack"],
            json!("masked")
        );
        let keys: Vec<String> = ["true", "\"stream\"", "false", "\"documents\"", "\"masked\""]
            .iter()
            .map(|p| stage_key(&pack_material(p)))
            .collect();
        assert_eq!(keys[0], keys[1]);
        let distinct: std::collections::BTreeSet<&String> = keys[1..].iter().collect();
        assert_eq!(distinct.len(), 4);
        assert_eq!(pack_material("true")["data"].get("document"), None);
        assert_eq!(crate::config::Pack::Stream.key_value(), json!(true));
    }
}
