//! Loading: a configured corpus or dataset from its file, split and filtered.
//!
//! `load_corpus` and `load_dataset` are what the runner calls; they put `source` (reading),
//! the split assignment and `filter` together, and return the filter report for the run's metrics.
//! Splits come from a split column, from seeded ratios (default 0.8/0.1/0.1, seed `split_seed`)
//! assigned before filtering, so filtering never moves an example from one split to another, or
//! from one file per split (`read_splits`, shared by every dataset layout).

use crate::config::{CorpusConfig, DatasetConfig, DatasetFiles};
use crate::data::error::{DataError, Result};
use crate::data::filter::{FilterReport, Filters, filter_corpus};
use crate::data::source::{Columns, Example, Format, Split, read_table, read_text, resolve};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use std::path::Path;

/// Split ratios used when a dataset has neither a split column nor `ratios`.
pub const DEFAULT_RATIOS: [f64; 3] = [0.8, 0.1, 0.1];

/// A labeled dataset, split and filtered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    pub train: Vec<Example>,
    pub dev: Vec<Example>,
    pub test: Vec<Example>,
    /// The distinct labels of the train split, sorted; a class label's id is its index here.
    pub labels: Vec<String>,
    /// Labels that occur in dev or test but not in train (a model cannot predict them), sorted.
    pub unseen_labels: Vec<String>,
}

impl Dataset {
    /// Builds a dataset from its splits, deriving `labels` and `unseen_labels`.
    pub fn from_splits(train: Vec<Example>, dev: Vec<Example>, test: Vec<Example>) -> Dataset {
        let labels: BTreeSet<&str> = train.iter().map(|e| e.label.as_str()).collect();
        let unseen: BTreeSet<&str> = dev
            .iter()
            .chain(&test)
            .map(|e| e.label.as_str())
            .filter(|l| !labels.contains(l))
            .collect();
        let labels = labels.into_iter().map(String::from).collect();
        let unseen_labels = unseen.into_iter().map(String::from).collect();
        Dataset {
            train,
            dev,
            test,
            labels,
            unseen_labels,
        }
    }

    pub fn split(&self, split: Split) -> &[Example] {
        match split {
            Split::Train => &self.train,
            Split::Dev => &self.dev,
            Split::Test => &self.test,
        }
    }

    /// The id of a class label (its index in `labels`); `None` for a label unseen in train.
    pub fn label_id(&self, label: &str) -> Option<usize> {
        self.labels.binary_search_by(|l| l.as_str().cmp(label)).ok()
    }

    /// The train texts (and second texts of pairs), for fitting a tokenizer.
    pub fn train_texts(&self) -> Vec<&str> {
        self.train
            .iter()
            .flat_map(|e| std::iter::once(e.text.as_str()).chain(e.text_pair.as_deref()))
            .collect()
    }

    /// For tagging: the distinct tags of the train split (labels split on whitespace), sorted,
    /// with `O` first when present. A tag's id is its index here.
    pub fn tag_labels(&self) -> Vec<String> {
        let tags: BTreeSet<&str> = self
            .train
            .iter()
            .flat_map(|e| e.label.split_whitespace())
            .collect();
        let mut out: Vec<String> = tags
            .iter()
            .filter(|t| **t != "O")
            .map(|t| t.to_string())
            .collect();
        if tags.contains("O") {
            out.insert(0, "O".into());
        }
        out
    }

    /// For tagging: checks every example has one tag per whitespace-separated word of its text.
    pub fn check_tagging(&self, what: &str) -> Result<()> {
        for split in Split::ALL {
            for (index, e) in self.split(split).iter().enumerate() {
                let (tags, words) = (
                    e.label.split_whitespace().count(),
                    e.text.split_whitespace().count(),
                );
                if tags != words {
                    return Err(DataError::TagCount {
                        what: what.into(),
                        split: split.name(),
                        index,
                        tags,
                        words,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Reads a corpus (one document per line, blank lines skipped) and filters it.
/// The report's first entry counts the blank lines skipped.
pub fn load_corpus(cfg: &CorpusConfig, base_dir: &Path) -> Result<(Vec<String>, FilterReport)> {
    let path = resolve(base_dir, &cfg.path);
    let text = read_text(&path)?;
    let (lines, mut report) = filter_corpus(&path.display().to_string(), text.lines, &cfg.filter)?;
    report.removed.insert(0, ("blank_lines".into(), text.blank));
    Ok((lines, report))
}

/// Reads a dataset, assigns splits (column, seeded ratios, or one file per split) and filters it.
pub fn load_dataset(cfg: &DatasetConfig, base_dir: &Path) -> Result<(Dataset, FilterReport)> {
    let what = dataset_what(cfg, base_dir);
    let filters = Filters::new(&cfg.filter)?;
    let columns = Columns {
        text: &cfg.text,
        text_pair: cfg.text_pair.as_deref(),
        label: &cfg.label,
        split: cfg.split.as_deref(),
    };
    let splits = read_splits(cfg, base_dir, |path| {
        Ok(read_table(path, &columns)?
            .into_iter()
            .map(|r| (r.example, r.split))
            .collect())
    })?;
    let (splits, report) = filters.apply_splits(splits)?;
    if report.kept == 0 {
        return Err(DataError::EmptyAfterFilter {
            what,
            report: report.summary(),
        });
    }
    let [train, dev, test] = splits;
    if train.is_empty() {
        return Err(DataError::EmptySplit {
            what,
            split: "train",
        });
    }
    Ok((Dataset::from_splits(train, dev, test), report))
}

/// The name a dataset's errors carry: its one file, or its train file.
fn dataset_what(cfg: &DatasetConfig, base_dir: &Path) -> String {
    match cfg.files() {
        Some(DatasetFiles::One(p)) | Some(DatasetFiles::PerSplit { train: p, .. }) => {
            resolve(base_dir, p).display().to_string()
        }
        None => "dataset".into(),
    }
}

/// Reads a dataset's file(s) and assigns every record a split, for records of any kind (the
/// classify/pair/tag tables here; other layouts pass their own `read`, which returns each
/// record with its split-column value when `cfg.split` names one). One file is split by its
/// column or by seeded ratios; with one file per split every record of a file goes to that
/// file's split and a split without a file is empty.
pub fn read_splits<T>(
    cfg: &DatasetConfig,
    base_dir: &Path,
    mut read: impl FnMut(&Path) -> Result<Vec<(T, Option<Split>)>>,
) -> Result<[Vec<T>; 3]> {
    let invalid = |what: String, message: &str| DataError::InvalidConfig {
        what,
        message: message.into(),
    };
    match cfg.files() {
        None => Err(invalid(
            "dataset".into(),
            "give either path (one file) or train (with dev and test: one file per split), exactly one of them",
        )),
        Some(DatasetFiles::One(path)) => {
            let path = resolve(base_dir, path);
            let what = path.display().to_string();
            if cfg.split.is_some() && cfg.ratios.is_some() {
                return Err(invalid(
                    what,
                    "give either a split column or ratios, not both",
                ));
            }
            if cfg.split.is_some() && Format::from_path(&path)? == Format::Conll {
                return Err(invalid(
                    what,
                    "a token/tag (.conll) file has no split column (hint: use ratios, or one file per split with train, dev and test)",
                ));
            }
            let ratios = cfg.ratios.unwrap_or(DEFAULT_RATIOS);
            check_ratios(&what, ratios)?;
            let records = read(&path)?;
            Ok(if cfg.split.is_some() {
                by_column(records)
            } else {
                by_ratios(records, ratios, cfg.split_seed)
            })
        }
        Some(DatasetFiles::PerSplit { train, dev, test }) => {
            let what = resolve(base_dir, train).display().to_string();
            if cfg.split.is_some() || cfg.ratios.is_some() {
                return Err(invalid(
                    what,
                    "one file per split (train, dev, test) takes no split column or ratios",
                ));
            }
            let mut out: [Vec<T>; 3] = Default::default();
            for (split, file) in [
                (Split::Train, Some(train)),
                (Split::Dev, dev),
                (Split::Test, test),
            ] {
                if let Some(file) = file {
                    out[split as usize] = read(&resolve(base_dir, file))?
                        .into_iter()
                        .map(|(r, _)| r)
                        .collect();
                }
            }
            Ok(out)
        }
    }
}

fn check_ratios(what: &str, r: [f64; 3]) -> Result<()> {
    let sum: f64 = r.iter().sum();
    if r.iter().any(|x| !(0.0..=1.0).contains(x)) || (sum - 1.0).abs() > 1e-6 || r[0] == 0.0 {
        return Err(DataError::InvalidConfig {
            what: what.into(),
            message: format!(
                "ratios = {r:?}: expected three shares in [0, 1] (train > 0) that sum to 1"
            ),
        });
    }
    Ok(())
}

fn by_column<T>(records: Vec<(T, Option<Split>)>) -> [Vec<T>; 3] {
    let mut out: [Vec<T>; 3] = Default::default();
    for (r, split) in records {
        // read_table fills the split whenever a split column is named.
        let s = split.unwrap_or(Split::Train);
        out[s as usize].push(r);
    }
    out
}

/// Seeded split: a permutation of the rows, the first round(n·r₀) to train, the next
/// round(n·r₁) to dev, the rest to test; each split keeps the file's order.
fn by_ratios<T>(records: Vec<(T, Option<Split>)>, r: [f64; 3], seed: u64) -> [Vec<T>; 3] {
    let assign = ratio_assignment(records.len(), r, seed);
    let mut out: [Vec<T>; 3] = Default::default();
    for ((rec, _), s) in records.into_iter().zip(assign) {
        out[s as usize].push(rec);
    }
    out
}

/// The split of each of `n` rows under seeded ratios (see `by_ratios`).
pub(crate) fn ratio_assignment(n: usize, r: [f64; 3], seed: u64) -> Vec<Split> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let n_train = ((n as f64 * r[0]).round() as usize).min(n);
    let n_dev = ((n as f64 * r[1]).round() as usize).min(n - n_train);
    let mut assign = vec![Split::Test; n];
    for (rank, &i) in order.iter().enumerate() {
        assign[i] = if rank < n_train {
            Split::Train
        } else if rank < n_train + n_dev {
            Split::Dev
        } else {
            Split::Test
        };
    }
    assign
}
