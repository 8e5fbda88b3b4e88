//! `task = "import"`: a pretraining stage that brings in an encoder trained elsewhere.
//!
//! - `path` = a BERT-family model directory (config.json, model.safetensors, tokenizer.json):
//!   the stage folder receives the parameters under our names, the tokenizer with our special-token
//!   ids (see `interop::vocab`) and the config.json. The stage depends on nothing of the
//!   experiment (its key is the path). The stages after it, a chain or the downstream stage, use
//!   that tokenizer (the plan points their tokenizer key at the import's folder) and that
//!   architecture (read from the config.json in the folder of the stage they start from; a chain
//!   stage after an import copies it along). The experiment's `[encoder]` must describe the
//!   imported architecture: [`check_imports`] says where it does not, at plan time.
//! - `path` = a `.safetensors` file saved by embedlab (a `params.safetensors`): copied; the
//!   experiment's encoder and tokenizer apply, as for any pretraining stage.

use super::plan::{
    CostEstimate, DataSource, KEY_VERSION, NamedData, StageConfig, StageKind, StagePlan, normalise,
    stage_key,
};
use super::stage::Metrics;
use super::stage::files::{PARAMS as PARAMS_FILE, TOKENIZER as TOKENIZER_FILE};
use crate::config::{
    self, CellNote, ConfigError, CorpusConfig, Loaded, Point, PretrainConfig, PretrainTask,
    Transfer, display_path,
};
use crate::interop::{self, BertConfig};
use crate::model::EncoderSpec;
use crate::runtime;
use anyhow::{Context, Result};
use serde_json::json;
use std::path::Path;

/// The imported model's config.json, kept in the import's stage folder and in the folders of
/// stages trained from it.
pub const IMPORT_CONFIG_FILE: &str = interop::CONFIG_FILE;

/// Whether `p` imports a model directory (rather than one of our params.safetensors files).
pub fn imports_model_dir(p: &PretrainConfig) -> bool {
    p.task == PretrainTask::Import
        && p.path
            .as_ref()
            .is_some_and(|x| x.extension().is_none_or(|e| e != "safetensors"))
}

/// The plan entry of an import of a model directory: keyed by the path alone, no parents.
/// `tok_key` is only recorded (the stage reads no tokenizer).
pub fn import_stage_plan(
    p: &PretrainConfig,
    name: &str,
    chain: &[String],
    tok_key: &str,
) -> StagePlan {
    let material = json!({
        "stage": "import",
        "version": KEY_VERSION,
        "path": p.path,
    });
    StagePlan {
        key: stage_key(&material),
        kind: StageKind::Pretrain,
        name: name.to_string(),
        label: chain.join(" > "),
        parents: Vec::new(),
        runs: Vec::new(),
        config: StageConfig::Pretrain {
            pretrain: p.clone(),
            encoder: Default::default(),
            embeddings: Default::default(),
            data: NamedData {
                name: String::new(),
                source: DataSource::Corpus(CorpusConfig {
                    path: Default::default(),
                    filter: Default::default(),
                    document: Default::default(),
                }),
            },
            seed: p.seed,
            tokenizer: tok_key.to_string(),
            previous: None,
        },
        estimate: CostEstimate {
            seconds: 2.0,
            ..Default::default()
        },
        cached: false,
    }
}

/// Checks, for every cell whose downstream stage starts from an imported model directory, that
/// the directory has a readable BERT config and that `[encoder]`/`[embeddings]` describe it.
pub fn check_imports(loaded: &Loaded) -> Result<(), ConfigError> {
    for point in &loaded.points {
        let exp = normalise(&point.experiment);
        let cell = if point.axes.is_empty() {
            CellNote(None)
        } else {
            let axes: Vec<String> = point
                .axes
                .iter()
                .map(|a| format!("{} = {}", a.key, a.value))
                .collect();
            CellNote(Some(axes.join(", ").into()))
        };
        for d in exp.downstream.values() {
            if d.transfer == Transfer::Scratch {
                continue;
            }
            let Some(first) = d.from.names().first() else {
                continue;
            };
            let Some(p) = exp.pretrain.get(first).filter(|p| imports_model_dir(p)) else {
                continue;
            };
            let dir = p.path.as_deref().unwrap_or(Path::new(""));
            let invalid = |path: &[&str], message: String| ConfigError::Invalid {
                at: Box::new(loaded.sources.locate(path, Point::Value)),
                key: display_path(path),
                message,
                cell: cell.clone(),
            };
            let c = BertConfig::read(dir).map_err(|e| {
                invalid(&["pretrain", first, "path"], format!("{e} (expected a BERT-family model directory with config.json, model.safetensors and tokenizer.json)"))
            })?;
            for f in [interop::WEIGHTS_FILE, interop::TOKENIZER_FILE] {
                if !dir.join(f).is_file() {
                    return Err(invalid(
                        &["pretrain", first, "path"],
                        format!("{} is missing", dir.join(f).display()),
                    ));
                }
            }
            let e = &exp.encoder;
            let act = if c.hidden_act == "relu" {
                config::Activation::Relu
            } else {
                config::Activation::Gelu
            };
            let hint = format!(
                "stages that start from an import take its architecture; describe it in [encoder]: depth = {}, d_model = {}, heads = {}, ffn = {}, activation = \"{}\", norm = \"post\", max_len <= {}",
                c.num_hidden_layers,
                c.hidden_size,
                c.num_attention_heads,
                c.intermediate_size,
                c.hidden_act,
                c.max_position_embeddings
            );
            let conflict = |key: &str, ours: String, theirs: String| {
                invalid(
                    &["encoder", key],
                    format!(
                        "{ours}, but pretrain.{first} imports a model with {theirs} ({}) (hint: {hint})",
                        dir.join(interop::CONFIG_FILE).display()
                    ),
                )
            };
            let checks = [
                (
                    "depth",
                    e.depth == c.num_hidden_layers,
                    e.depth.to_string(),
                    format!("num_hidden_layers = {}", c.num_hidden_layers),
                ),
                (
                    "d_model",
                    e.d_model == c.hidden_size,
                    e.d_model.to_string(),
                    format!("hidden_size = {}", c.hidden_size),
                ),
                (
                    "heads",
                    e.heads == c.num_attention_heads,
                    e.heads.to_string(),
                    format!("num_attention_heads = {}", c.num_attention_heads),
                ),
                (
                    "ffn",
                    e.ffn == c.intermediate_size,
                    e.ffn.to_string(),
                    format!("intermediate_size = {}", c.intermediate_size),
                ),
                (
                    "activation",
                    e.activation == act,
                    format!("{:?}", e.activation).to_lowercase(),
                    format!("hidden_act = \"{}\"", c.hidden_act),
                ),
                (
                    "norm",
                    e.norm == config::NormPlacement::Post,
                    format!("{:?}", e.norm).to_lowercase(),
                    "post-LN (BERT)".to_string(),
                ),
                (
                    "max_len",
                    e.max_len <= c.max_position_embeddings,
                    e.max_len.to_string(),
                    format!("max_position_embeddings = {}", c.max_position_embeddings),
                ),
            ];
            if let Some((key, _, ours, theirs)) = checks.into_iter().find(|c| !c.1) {
                return Err(conflict(key, ours, theirs));
            }
            let emb = &exp.embeddings;
            if emb.word != config::WordEmbedding::Learned
                || emb.position != config::PositionEmbedding::Learned
            {
                let key = if emb.word != config::WordEmbedding::Learned {
                    "word"
                } else {
                    "position"
                };
                return Err(invalid(
                    &["embeddings", key],
                    format!(
                        "must be \"learned\": pretrain.{first} imports a BERT-family model, whose word and position embeddings are learned tables"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Executes an import stage into `dir`.
pub fn import_stage(p: &PretrainConfig, dir: &Path) -> Result<Metrics> {
    let path = p
        .path
        .as_deref()
        .context("task = \"import\" needs a path")?;
    let mut metrics = Metrics::new();
    if !imports_model_dir(p) {
        // One of our checkpoints: check that it reads, then copy it.
        let names = runtime::checkpoint_params(path)?;
        std::fs::copy(path, dir.join(PARAMS_FILE))
            .with_context(|| format!("copying {}", path.display()))?;
        metrics.insert("import_tensors".into(), names.len() as f64);
        return Ok(metrics);
    }
    let imported = interop::import_dir(path, usize::MAX)?;
    if !imported.unused.is_empty() {
        eprintln!(
            "note: import of {}: not used: {}",
            path.display(),
            imported.unused.join(", ")
        );
    }
    runtime::save_checkpoint(
        &dir.join(PARAMS_FILE),
        &imported.params,
        None,
        &Default::default(),
    )?;
    imported.vocab.tok.save(&dir.join(TOKENIZER_FILE))?;
    std::fs::copy(
        path.join(interop::CONFIG_FILE),
        dir.join(IMPORT_CONFIG_FILE),
    )?;
    metrics.insert("import_tensors".into(), imported.params.len() as f64);
    metrics.insert(
        "import_parameters".into(),
        imported.params.num_values() as f64,
    );
    Ok(metrics)
}

/// The architecture of the model in `stage_dir` when it is (or was trained from) an import of a
/// model directory, with this stage's `dropout` and causality.
pub fn imported_spec(
    stage_dir: Option<&Path>,
    dropout: f64,
    causal: bool,
) -> Result<Option<EncoderSpec>> {
    let Some(dir) = stage_dir.filter(|d| d.join(IMPORT_CONFIG_FILE).is_file()) else {
        return Ok(None);
    };
    let c = BertConfig::read(dir)?;
    let mut spec = c.spec(c.vocab_size, usize::MAX);
    spec.dropout = dropout;
    spec.causal = causal;
    Ok(Some(spec))
}

/// A stage trained from an import keeps the import's config.json, so the stages after it find
/// the architecture too.
pub fn inherit_import(previous: Option<&Path>, dir: &Path) -> Result<()> {
    if let Some(prev) = previous.filter(|d| d.join(IMPORT_CONFIG_FILE).is_file()) {
        std::fs::copy(prev.join(IMPORT_CONFIG_FILE), dir.join(IMPORT_CONFIG_FILE))?;
    }
    Ok(())
}
