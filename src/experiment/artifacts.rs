//! Finding a trained encoder outside a run: the encoder of a finished run (from its runs.csv row
//! and stage folders), a BERT-family model directory, or an exported `.onnx` with its
//! tokenizer.json, each turned into a standalone inference model for `export` and `embed`.
//!
//! A run's encoder is that of the last stage of the run holding parameters: its downstream stage,
//! which saves the model it tested (the encoder as trained and the head), or, for runs made
//! before downstream stages saved their models, its pretraining or import stage (the encoder the
//! run started from; a scratch run of that time has none).

use super::convert::encoder_spec;
use super::imports::IMPORT_CONFIG_FILE;
use super::stage::files::{PARAMS as PARAMS_FILE, TOKENIZER as TOKENIZER_FILE};
use super::stage::{SavedHead, read_saved_head};
use crate::config::{self, Experiment, PretrainTask, Transfer};
use crate::data::Tok;
use crate::interop::{self, ExportedModel, ModelHead};
use crate::model::{EncoderSpec, Pooling};
use crate::runtime::{self, ParamStore};
use crate::task::Target;
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// An encoder with its parameters and tokenizer, and where it came from.
pub struct LoadedEncoder {
    pub spec: EncoderSpec,
    pub params: ParamStore,
    pub tok: Tok,
    /// The pooling the run's downstream task used (mean for imported models).
    pub pooling: Pooling,
    /// For messages: `run c003-s1 (pretrain stage 3f2a...)`, `BERT directory ...`.
    pub described: String,
    /// The trained head (its parameters are in `params`), when the encoder comes from a
    /// downstream stage that saved its model.
    pub head: Option<SavedHead>,
}

/// The encoder of the stage in `stage_dir`: an import (config.json there) or a stage trained here
/// (its spec from the experiment).
fn stage_encoder(
    stage_dir: &Path,
    tok: &Tok,
    fallback: impl FnOnce(usize) -> EncoderSpec,
) -> Result<(EncoderSpec, ParamStore)> {
    let params = runtime::load_checkpoint(&stage_dir.join(PARAMS_FILE))?.params;
    let spec = if stage_dir.join(IMPORT_CONFIG_FILE).is_file() {
        let c = interop::BertConfig::read(stage_dir)?;
        let rows = params
            .shape("embeddings.word")
            .map_or(tok.vocab_size(), |s| s[0]);
        let len = params
            .shape("embeddings.position")
            .map_or(c.max_position_embeddings, |s| s[0]);
        c.spec(rows, len)
    } else {
        fallback(tok.vocab_size())
    };
    Ok((spec, params))
}

/// The encoder of the finished run in `run_dir` (`<out>/<experiment>/runs/<run_id>`).
pub fn run_encoder(run_dir: &Path) -> Result<LoadedEncoder> {
    let run_id = run_dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("a run directory has a name")?
        .to_string();
    let exp_dir = run_dir
        .parent()
        .and_then(Path::parent)
        .context("a run directory lies in <out>/<experiment>/runs/")?;
    let out = exp_dir
        .parent()
        .context("a run directory lies in <out>/<experiment>/runs/")?;
    let runs_csv = exp_dir.join("runs.csv");
    let rows = crate::report::table::read_csv(&runs_csv)?;
    let row = rows
        .iter()
        .find(|r| r.get("run_id") == Some(&run_id))
        .with_context(|| format!("{}: no row for run '{run_id}'", runs_csv.display()))?;
    if row.get("status").map(String::as_str) != Some("ok") {
        bail!(
            "run '{run_id}' did not finish (status {:?} in {})",
            row.get("status").cloned().unwrap_or_default(),
            runs_csv.display()
        );
    }
    let keys: Vec<&str> = row
        .get("stage_keys")
        .map(|k| k.split_whitespace().collect())
        .unwrap_or_default();
    let stage = |k: &str| out.join(".stages").join(k);
    let cfg_path = run_dir.join("config.toml");
    let text = std::fs::read_to_string(&cfg_path)
        .with_context(|| format!("reading {}", cfg_path.display()))?;
    let exp: Experiment = toml::from_str(&text)
        .with_context(|| format!("{}: not a run configuration", cfg_path.display()))?;
    let Some(at) = keys
        .iter()
        .rposition(|k| stage(k).join(PARAMS_FILE).is_file())
    else {
        bail!(
            "run '{run_id}' has no stage with encoder parameters: it was made before downstream stages saved their models and it starts from no pretraining or import stage (rerun it to export it)"
        );
    };
    let Some(tok_at) = (0..=at)
        .rev()
        .find(|&i| stage(keys[i]).join(TOKENIZER_FILE).is_file())
    else {
        bail!(
            "run '{run_id}': no tokenizer.json in its stages ({})",
            out.join(".stages").display()
        );
    };
    let tok = Tok::load(&stage(keys[tok_at]).join(TOKENIZER_FILE))?;
    // The downstream task's chain decides causality and pooling.
    let ds = exp
        .downstream
        .values()
        .find(|d| d.transfer != Transfer::Scratch)
        .or_else(|| exp.downstream.values().next());
    let causal = ds
        .filter(|d| d.transfer != Transfer::Scratch)
        .and_then(|d| d.from.names().last())
        .and_then(|n| exp.pretrain.get(n))
        .is_some_and(|p| p.task == PretrainTask::Clm);
    let mut pooling = match ds.map(|d| d.pooling) {
        Some(config::Pooling::Cls) => Pooling::Cls,
        _ => Pooling::Mean,
    };
    // An encoder trained after an import has the import's shape.
    let import_at = (0..=at)
        .rev()
        .find(|&i| stage(keys[i]).join(IMPORT_CONFIG_FILE).is_file());
    let (spec, params) = match import_at {
        Some(i) if i != at => {
            let c = interop::BertConfig::read(&stage(keys[i]))?;
            let params = runtime::load_checkpoint(&stage(keys[at]).join(PARAMS_FILE))?.params;
            let len = params
                .shape("embeddings.position")
                .map_or(c.max_position_embeddings, |s| s[0]);
            (c.spec(tok.vocab_size(), len), params)
        }
        _ => stage_encoder(&stage(keys[at]), &tok, |vocab| {
            encoder_spec(&exp.encoder, &exp.embeddings, vocab, causal)
        })?,
    };
    let params_path = stage(keys[at]).join(PARAMS_FILE);
    let meta = runtime::load_checkpoint(&params_path)?.meta;
    let head = read_saved_head(&stage(keys[at]), &meta)?;
    // The pooled output pools as the stage was configured to, except for tagging (every
    // token is read; the pooled output keeps the mean).
    if let Some(h) = &head {
        match h.task.target() {
            Target::Class | Target::Answer => pooling = h.pooling.into(),
            Target::Tags => {}
        }
    }
    Ok(LoadedEncoder {
        spec,
        params,
        tok,
        pooling,
        described: format!("run {run_id} (stage {})", keys[at]),
        head,
    })
}

/// A BERT-family model directory as our encoder.
pub fn bert_encoder(dir: &Path) -> Result<LoadedEncoder> {
    let imported = interop::import_dir(dir, usize::MAX)?;
    Ok(LoadedEncoder {
        spec: imported.spec,
        params: imported.params,
        tok: imported.vocab.tok,
        pooling: Pooling::Mean,
        described: format!("model directory {}", dir.display()),
        head: None,
    })
}

/// What `embed --model PATH` and `export` accept.
pub enum ModelPath {
    /// An exported `.onnx` file with tokenizer.json beside it.
    Onnx { model: PathBuf, tokenizer: PathBuf },
    /// A run directory or a BERT-family model directory.
    Encoder(Box<LoadedEncoder>),
}

/// Resolves PATH: an `.onnx` file, a run directory (`<out>/<experiment>/runs/<run_id>`), or a
/// BERT-family model directory (config.json, model.safetensors, tokenizer.json).
pub fn resolve_model_path(path: &Path) -> Result<ModelPath> {
    if path.is_file() {
        let tokenizer = path.with_file_name(TOKENIZER_FILE);
        if !tokenizer.is_file() {
            bail!(
                "{}: expected tokenizer.json beside the model ({} is missing)",
                path.display(),
                tokenizer.display()
            );
        }
        return Ok(ModelPath::Onnx {
            model: path.to_path_buf(),
            tokenizer,
        });
    }
    if !path.is_dir() {
        bail!("{}: no such file or directory", path.display());
    }
    if interop::is_model_dir(path) {
        return Ok(ModelPath::Encoder(Box::new(bert_encoder(path)?)));
    }
    if path.join("config.toml").is_file()
        && path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == "runs")
    {
        return Ok(ModelPath::Encoder(Box::new(run_encoder(path)?)));
    }
    bail!(
        "{}: not a model: expected an exported .onnx file, a run directory (<out>/<experiment>/runs/<run_id>) or a BERT-family directory with {} and {}",
        path.display(),
        interop::CONFIG_FILE,
        interop::WEIGHTS_FILE
    )
}

impl LoadedEncoder {
    /// The standalone inference model of this encoder.
    pub fn export(&self, pooling: Option<Pooling>) -> Result<ExportedModel> {
        interop::encoder_model(&self.spec, &self.params, pooling.unwrap_or(self.pooling))
            .with_context(|| format!("exporting {}", self.described))
    }

    /// The standalone inference model of this encoder with its trained head (`logits`,
    /// `probabilities`, the label names in the metadata).
    pub fn export_with_head(&self) -> Result<ExportedModel> {
        let Some(h) = &self.head else {
            bail!(
                "{} has no trained head: only runs whose downstream stage saved its model (made by this version) export one",
                self.described
            );
        };
        // The exported model reads one window per row; `predict` pools a windowed run's
        // windows itself.
        let head = ModelHead {
            head: h.task.head(h.labels.len(), h.pooling.into(), None),
            labels: &h.labels,
            task: h.task.name(),
        };
        interop::task_model(&self.spec, &self.params, &head)
            .with_context(|| format!("exporting {} with its head", self.described))
    }
}
