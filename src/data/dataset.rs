//! Loading: a configured corpus or dataset from its file, split and filtered.
//!
//! `load_corpus` and `load_dataset` are what the runner calls; they put `source` (reading),
//! the split assignment and `filter` together, and return the filter report for the run's metrics.
//! Splits come from a split column, or from seeded ratios (default 0.8/0.1/0.1, seed `split_seed`)
//! assigned before filtering, so filtering never moves an example from one split to another.

use crate::config::{CorpusConfig, DatasetConfig};
use crate::data::error::{DataError, Result};
use crate::data::filter::{FilterReport, Filters, filter_corpus};
use crate::data::source::{
    Columns, Example, Format, Record, Split, read_table, read_text, resolve,
};
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

/// Reads a dataset, assigns splits (column or seeded ratios) and filters it.
pub fn load_dataset(cfg: &DatasetConfig, base_dir: &Path) -> Result<(Dataset, FilterReport)> {
    let path = resolve(base_dir, &cfg.path);
    let what = path.display().to_string();
    if cfg.split.is_some() && cfg.ratios.is_some() {
        return Err(DataError::InvalidConfig {
            what,
            message: "give either a split column or ratios, not both".into(),
        });
    }
    if cfg.split.is_some() && Format::from_path(&path)? == Format::Conll {
        return Err(DataError::InvalidConfig {
            what,
            message: "a token/tag (.conll) file has no split column (hint: use ratios, or one file per split as TSV)".into(),
        });
    }
    let ratios = cfg.ratios.unwrap_or(DEFAULT_RATIOS);
    check_ratios(&what, ratios)?;
    let filters = Filters::new(&cfg.filter)?;
    let columns = Columns {
        text: &cfg.text,
        text_pair: cfg.text_pair.as_deref(),
        label: &cfg.label,
        split: cfg.split.as_deref(),
    };
    let records = read_table(&path, &columns)?;
    let splits = if cfg.split.is_some() {
        by_column(records)
    } else {
        by_ratios(records, ratios, cfg.split_seed)
    };
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

fn by_column(records: Vec<Record>) -> [Vec<Example>; 3] {
    let mut out: [Vec<Example>; 3] = Default::default();
    for r in records {
        // read_table fills `split` whenever a split column is named.
        let s = r.split.unwrap_or(Split::Train);
        out[s as usize].push(r.example);
    }
    out
}

/// Seeded split: a permutation of the rows, the first round(n·r₀) to train, the next
/// round(n·r₁) to dev, the rest to test; each split keeps the file's order.
fn by_ratios(records: Vec<Record>, r: [f64; 3], seed: u64) -> [Vec<Example>; 3] {
    let assign = ratio_assignment(records.len(), r, seed);
    let mut out: [Vec<Example>; 3] = Default::default();
    for (rec, s) in records.into_iter().zip(assign) {
        out[s as usize].push(rec.example);
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
