//! Checks before compute: what a run would otherwise find only when it reached the stage that
//! needs it, after hours of work on the stages before. Config rules that need no files are in
//! `config::validate`; here are the ones that read something:
//!
//! - every corpus and dataset of every cell is read, split and filtered as a run will read it
//!   (missing, unreadable, empty, ragged, not UTF-8, nothing left after filtering);
//! - each downstream dataset fits its task: a test split to score, one tag per word for `tag`,
//!   no dev/test label that train lacks (unless `unseen_labels = "ignore"`);
//! - a `kind = "file"` tokenizer loads;
//! - settings the schema accepts but this version cannot run;
//! - the ONNX Runtime library loads;
//! - the results folder can be created and written (checked last: it is the only check that
//!   writes, and only when every other check passed).
//!
//! Every failure is a [`CheckError`]: invalid input, exit code 2, nothing run or written.

use super::plan::Plan;
use crate::config::{
    CorpusConfig, DatasetConfig, Device, DownstreamTask, Experiment, TokenizerKind, UnseenLabels,
};
use crate::data::{self, Columns, DataError, Dataset, Example};
use crate::task::Target;
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Why an experiment cannot run, found before anything ran.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(
        "{key}: file {} does not exist (hint: a relative path resolves against the directory of the experiment file that sets it)",
        .path.display()
    )]
    MissingData { key: String, path: PathBuf },

    /// Reading, splitting or filtering a data file failed; the data error names the file and line.
    #[error("{key}: {source}")]
    Data {
        key: String,
        #[source]
        source: Box<DataError>,
    },

    /// The data does not fit the task that uses it.
    #[error("{key}: {message}")]
    Mismatch { key: String, message: String },

    #[error("{key}: {message}")]
    Unsupported { key: String, message: String },

    /// A data error that only one sweep cell's settings cause.
    #[error("{inner} (in sweep cell {cell})")]
    InCell {
        cell: String,
        inner: Box<CheckError>,
    },

    #[error("{0}")]
    Runtime(#[from] crate::runtime::RuntimeError),

    #[error("--out {}: cannot write results there: {message}", .path.display())]
    Output { path: PathBuf, message: String },
}

/// Every check, in the order of the module docs. Nothing is written unless all others pass.
pub fn preflight(plan: &Plan, out_dir: &Path) -> Result<(), CheckError> {
    check_supported(plan)?;
    check_data(plan)?;
    crate::runtime::init()?;
    check_output(plan, out_dir)
}

/// Settings the schema accepts but this version cannot run yet.
pub fn check_supported(plan: &Plan) -> Result<(), CheckError> {
    for cell in &plan.cells {
        let e = &cell.experiment;
        if e.device != Device::Cpu {
            return Err(CheckError::Unsupported {
                key: "device".into(),
                message: "only \"cpu\" is implemented in this version".into(),
            });
        }
    }
    Ok(())
}

/// Reads every corpus and dataset of every cell once and checks each downstream dataset
/// against its task.
pub fn check_data(plan: &Plan) -> Result<(), CheckError> {
    // Cells share most of their data; each distinct configuration is read once.
    let mut seen = Seen::default();
    for cell in &plan.cells {
        check_cell(&cell.experiment, &mut seen).map_err(|e| {
            if cell.axes.is_empty() {
                return e;
            }
            let axes: Vec<String> = cell
                .axes
                .iter()
                .map(|a| format!("{} = {}", a.key, a.value))
                .collect();
            CheckError::InCell {
                cell: axes.join(", "),
                inner: Box::new(e),
            }
        })?;
    }
    Ok(())
}

/// Corpora read and datasets loaded so far, by configuration.
#[derive(Default)]
struct Seen {
    corpora: BTreeSet<String>,
    datasets: BTreeMap<String, Dataset>,
}

fn check_cell(e: &Experiment, seen: &mut Seen) -> Result<(), CheckError> {
    for (name, c) in &e.corpus {
        if seen.corpora.insert(format!("{c:?}")) {
            read_corpus(name, c)?;
        }
    }
    let span_data: BTreeSet<&str> = e
        .downstream
        .values()
        .filter(|d| match d.task.target() {
            Target::Answer => true,
            Target::Class | Target::Tags => false,
        })
        .map(|d| d.data.as_str())
        .collect();
    for (name, d) in &e.dataset {
        if span_data.contains(name.as_str()) {
            if seen.corpora.insert(format!("span {d:?}")) {
                read_span_dataset(name, d)?;
            }
            continue;
        }
        if let Entry::Vacant(slot) = seen.datasets.entry(format!("{d:?}")) {
            slot.insert(read_dataset(name, d)?);
        }
    }
    check_tokenizer_file(e)?;
    for (stage, d) in &e.downstream {
        // Config validation has made sure the dataset exists.
        let Some(dc) = e.dataset.get(&d.data) else {
            continue;
        };
        let Some(ds) = seen.datasets.get(&format!("{dc:?}")) else {
            continue;
        };
        fits_task(&format!("downstream.{stage}"), &d.data, dc, ds, d.task)?;
    }
    Ok(())
}

fn missing(key: String, path: &Path) -> Result<(), CheckError> {
    if path.exists() {
        Ok(())
    } else {
        Err(CheckError::MissingData {
            key,
            path: path.to_path_buf(),
        })
    }
}

fn data_error(key: String, e: DataError) -> CheckError {
    CheckError::Data {
        key,
        source: Box::new(e),
    }
}

fn read_corpus(name: &str, c: &CorpusConfig) -> Result<(), CheckError> {
    missing(format!("corpus.{name}.path"), &c.path)?;
    data::load_corpus(c, Path::new("")).map_err(|e| data_error(format!("corpus.{name}"), e))?;
    Ok(())
}

fn read_dataset(name: &str, d: &DatasetConfig) -> Result<Dataset, CheckError> {
    for (key, path) in d.file_keys() {
        missing(format!("dataset.{name}.{key}"), path)?;
    }
    data::load_dataset(d, Path::new(""))
        .map(|(ds, _)| ds)
        .map_err(|e| data_error(format!("dataset.{name}"), e))
}

/// A span dataset: every answer checked against its context; test questions needed.
fn read_span_dataset(name: &str, d: &DatasetConfig) -> Result<(), CheckError> {
    for (key, path) in d.file_keys() {
        missing(format!("dataset.{name}.{key}"), path)?;
    }
    let ds = data::load_span_dataset(d, Path::new(""))
        .map_err(|e| data_error(format!("dataset.{name}"), e))?;
    if ds.test.is_empty() {
        return Err(CheckError::Mismatch {
            key: format!("dataset.{name}"),
            message: format!(
                "dataset '{name}' has no test questions after splitting, so nothing can be scored (hint: check its split column or ratios)"
            ),
        });
    }
    Ok(())
}

fn check_tokenizer_file(e: &Experiment) -> Result<(), CheckError> {
    let t = &e.tokenizer;
    let (TokenizerKind::File, Some(path)) = (t.kind, &t.path) else {
        return Ok(());
    };
    missing("tokenizer.path".into(), path)?;
    data::Tok::load(path).map_err(|e| data_error("tokenizer.path".into(), e))?;
    Ok(())
}

/// Whether dataset `name` can train and score a downstream `task` (reported at `key`).
fn fits_task(
    key: &str,
    name: &str,
    cfg: &DatasetConfig,
    ds: &Dataset,
    task: DownstreamTask,
) -> Result<(), CheckError> {
    let mismatch = |message: String| CheckError::Mismatch {
        key: key.to_string(),
        message,
    };
    if ds.test.is_empty() {
        return Err(mismatch(format!(
            "dataset '{name}' has no test examples after splitting and filtering, so nothing can be scored (hint: check its split column, ratios, test file or filter)"
        )));
    }
    let tags = match task.target() {
        Target::Tags => true,
        Target::Class | Target::Answer => false,
    };
    if tags {
        for split in data::Split::ALL {
            let bad = ds.split(split).iter().find(|ex| {
                ex.label.split_whitespace().count() != ex.text.split_whitespace().count()
            });
            if let Some(ex) = bad {
                return Err(mismatch(format!(
                    "task = \"tag\" needs one tag per word in column '{}' of dataset '{name}', but {} ({split} split) has {} tag(s) for {} word(s) (hint: is this a tagging dataset?)",
                    cfg.label,
                    at_line(cfg, ex),
                    ex.label.split_whitespace().count(),
                    ex.text.split_whitespace().count(),
                )));
            }
        }
        return Ok(());
    }
    if cfg.unseen_labels == UnseenLabels::Ignore {
        return Ok(());
    }
    let unseen = [(data::Split::Dev, &ds.dev), (data::Split::Test, &ds.test)]
        .into_iter()
        .find_map(|(split, xs)| {
            xs.iter()
                .find(|ex| ds.label_id(&ex.label).is_none())
                .map(|ex| (split, ex))
        });
    if let Some((split, ex)) = unseen {
        let hint = crate::config::Hint::closest(&ex.label, &ds.labels);
        return Err(mismatch(format!(
            "label '{}' at {} ({split} split) of dataset '{name}' never occurs in train, so no model can predict it{hint} (hint: fix the label, or set dataset.{name}.unseen_labels = \"ignore\" to leave such examples out of the scores)",
            ex.label,
            at_line(cfg, ex),
        )));
    }
    Ok(())
}

/// `file:line` of an example of a dataset, read again to find its line (only on the error
/// path); the file alone when the line cannot be found.
fn at_line(cfg: &DatasetConfig, ex: &Example) -> String {
    let columns = Columns {
        text: &cfg.text,
        text_pair: cfg.text_pair.as_deref(),
        label: &cfg.label,
        split: cfg.split.as_deref(),
    };
    let files = cfg.file_keys();
    let found = files.iter().find_map(|(_, path)| {
        data::read_table(path, &columns)
            .ok()
            .and_then(|rs| rs.into_iter().find(|r| &r.example == ex).map(|r| r.line))
            .map(|line| format!("{}:{line}", path.display()))
    });
    match (found, files.first()) {
        (Some(at), _) => at,
        (None, Some((_, path))) => path.display().to_string(),
        (None, None) => "(no file)".into(),
    }
}

/// The results folder `<out_dir>/<experiment>` can be created and written.
pub fn check_output(plan: &Plan, out_dir: &Path) -> Result<(), CheckError> {
    let fail = |e: std::io::Error| CheckError::Output {
        path: out_dir.to_path_buf(),
        message: e.to_string(),
    };
    let dir = out_dir.join(&plan.experiment_name);
    std::fs::create_dir_all(&dir).map_err(fail)?;
    let probe = dir.join(format!(".write-check-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)
}
