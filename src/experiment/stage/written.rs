//! `embedlab graph`: the graphs of one stage of a plan written as ONNX files, built by the same
//! code the stage trains with. What only upstream stages know (the fitted vocabulary, an
//! imported architecture) is read from their finished folders under the results folder, or
//! computed into a scratch folder when they have not run yet (a tokenizer fit, an import: both
//! quick); the label set is read from the dataset.

use super::graphs::{Upstream, downstream_shape, pretrain_shape, stage_graphs, write_graphs};
use super::{files, pretrained_is_causal, tokenizer};
use crate::config::{PretrainConfig, PretrainTask};
use crate::data::{self, Tok};
use crate::experiment::imports;
use crate::experiment::plan::{DataSource, NamedData, Plan, StageConfig, StageKind, StagePlan};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};

/// Writes the ONNX graphs of the stage `pretrain.NAME` or `downstream.NAME` of the plan's first
/// run that has it into `out`, as `<kind>_<name>.<role>.onnx`. Finished upstream stages are read
/// from `<results>/.stages/`.
pub fn write_stage_graphs(
    plan: &Plan,
    stage: &str,
    out: &Path,
    results: &Path,
) -> Result<Vec<PathBuf>> {
    let (kind, name) = stage
        .split_once('.')
        .context("--stage must be pretrain.NAME or downstream.NAME")?;
    let kind = match kind {
        "pretrain" => StageKind::Pretrain,
        "downstream" => StageKind::Downstream,
        _ => bail!("--stage must be pretrain.NAME or downstream.NAME, not '{stage}'"),
    };
    let sp = plan
        .stages
        .iter()
        .find(|s| s.kind == kind && s.name == name)
        .with_context(|| format!("no stage '{stage}' in the experiment"))?;
    let scratch = std::env::temp_dir().join(format!("embedlab-graph-{}", std::process::id()));
    let resolver = Resolver {
        plan,
        stages: results.join(".stages"),
        scratch: scratch.clone(),
    };
    let written = resolver.write(sp, &stage.replace('.', "_"), out);
    let _ = std::fs::remove_dir_all(&scratch);
    written
}

/// Finds (or computes) the upstream stage folders a stage's shape depends on.
struct Resolver<'a> {
    plan: &'a Plan,
    stages: PathBuf,
    scratch: PathBuf,
}

impl Resolver<'_> {
    fn write(&self, sp: &StagePlan, stem: &str, out: &Path) -> Result<Vec<PathBuf>> {
        let graphs = match &sp.config {
            StageConfig::Tokenizer { .. } => bail!("a tokenizer stage has no graphs"),
            StageConfig::Vectors { .. } => bail!("a vectors stage has no graphs"),
            StageConfig::Baseline { .. } => bail!("a bag-of-words baseline stage has no graphs"),
            StageConfig::Pretrain {
                pretrain,
                encoder,
                embeddings,
                data,
                seed,
                tokenizer,
                previous,
            } => {
                if pretrain.task == PretrainTask::Import {
                    bail!("an import stage trains no graph");
                }
                let classes = match pretrain.task {
                    PretrainTask::Classify => Some(dataset_labels(data)?.len()),
                    _ => None,
                };
                let previous = self.import_of(previous.as_deref())?;
                // A plan with static word vectors always has their stage.
                let up = Upstream::new(
                    self.vocab(tokenizer)?,
                    previous.as_deref(),
                    classes,
                    embeddings,
                    true,
                );
                stage_graphs(&pretrain_shape(pretrain, encoder, embeddings, &up, *seed)?)?
            }
            StageConfig::Downstream {
                downstream,
                encoder,
                embeddings,
                data,
                seed,
                tokenizer,
                pretrained,
            } => {
                let DataSource::Dataset(dc) = &data.source else {
                    bail!("downstream data '{}' must be a dataset", data.name)
                };
                // A span head's outputs are fixed; it has no labels to read.
                let classes = match downstream.task.fixed_outputs() {
                    Some(outputs) => outputs.len(),
                    None => downstream
                        .task
                        .label_names(&data::load_dataset(dc, Path::new(""))?.0)?
                        .len(),
                };
                // Only whether a stage was pretrained and what it imported shape the graphs.
                let previous = match pretrained.as_deref() {
                    None => None,
                    Some(k) => Some(
                        self.import_of(Some(k))?
                            .unwrap_or_else(|| self.stages.join(k)),
                    ),
                };
                let up = Upstream::new(
                    self.vocab(tokenizer)?,
                    previous.as_deref(),
                    Some(classes),
                    embeddings,
                    true,
                );
                let causal = pretrained_is_causal(self.plan, pretrained.as_deref());
                let (shape, _) =
                    downstream_shape(downstream, encoder, embeddings, &up, causal, *seed)?;
                stage_graphs(&shape)?
            }
        };
        write_graphs(&graphs, stem, out)
    }

    /// The fitted vocabulary size of tokenizer stage `key`.
    fn vocab(&self, key: &str) -> Result<usize> {
        let done = self.stages.join(key).join(files::TOKENIZER);
        if done.is_file() {
            return Ok(Tok::load(&done)?.vocab_size());
        }
        // A run that starts from an import uses the import's tokenizer.
        if let Some(dir) = self.import_of(Some(key))? {
            return Ok(Tok::load(&dir.join(files::TOKENIZER))?.vocab_size());
        }
        let Some(StageConfig::Tokenizer { tokenizer, fit_on }) =
            self.plan.stage(key).map(|s| &s.config)
        else {
            bail!("tokenizer stage {key} missing from the plan");
        };
        let dir = self.scratch.join(key);
        std::fs::create_dir_all(&dir)?;
        tokenizer::fit_tokenizer(tokenizer, fit_on, &dir)?;
        Ok(Tok::load(&dir.join(files::TOKENIZER))?.vocab_size())
    }

    /// The folder holding the import at the root of the pretraining chain ending at `key`, when
    /// the chain starts with one (its config.json carries the architecture down the chain).
    fn import_of(&self, key: Option<&str>) -> Result<Option<PathBuf>> {
        let Some(root) = chain_import(self.plan, key) else {
            return Ok(None);
        };
        let done = self.stages.join(&root.key);
        if done.join(imports::IMPORT_CONFIG_FILE).is_file() {
            return Ok(Some(done));
        }
        let dir = self.scratch.join(&root.key);
        std::fs::create_dir_all(&dir)?;
        imports::import_stage(root.pretrain, &dir)?;
        Ok(Some(dir))
    }
}

/// The label set of a dataset's train split.
fn dataset_labels(d: &NamedData) -> Result<Vec<String>> {
    let DataSource::Dataset(dc) = &d.source else {
        bail!(
            "pretraining task classify needs a dataset, '{}' is a corpus",
            d.name
        )
    };
    Ok(data::load_dataset(dc, Path::new(""))?.0.labels)
}

/// The import stage at the root of a pretraining chain.
struct ImportRoot<'p> {
    key: String,
    pretrain: &'p PretrainConfig,
}

/// The import stage the pretraining chain ending at `key` starts from, if it starts from one.
fn chain_import<'p>(plan: &'p Plan, key: Option<&str>) -> Option<ImportRoot<'p>> {
    let mut key = key?;
    loop {
        let StageConfig::Pretrain {
            pretrain, previous, ..
        } = &plan.stage(key)?.config
        else {
            return None;
        };
        if pretrain.task == PretrainTask::Import {
            return Some(ImportRoot {
                key: key.to_string(),
                pretrain,
            });
        }
        key = previous.as_deref()?;
    }
}
