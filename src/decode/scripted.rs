//! A scripted next-token model, the test double that drives decoding without a network: its
//! log-probabilities are written down per sequence (or computed by a function), and it records
//! every call so tests can check what decoding asked for.

use super::model::{NextTokenModel, Step};
use std::collections::HashMap;

/// A function from a sequence to its next-token log-probabilities.
type LogProbFn = Box<dyn Fn(&[u32]) -> Vec<f32> + Send>;

/// Where a scripted model's log-probabilities come from.
enum Script {
    /// One row per listed sequence (prompt included), `fallback` for every other sequence.
    Table {
        rows: HashMap<Vec<u32>, Vec<f32>>,
        fallback: Vec<f32>,
    },
    /// A function of the sequence.
    Function(LogProbFn),
}

/// What a scripted model was asked in one call (a copy of the `Step`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub sequences: Vec<Vec<u32>>,
    pub parents: Option<Vec<usize>>,
}

/// A model whose answers are fixed in advance.
pub struct ScriptedModel {
    vocab: usize,
    script: Script,
    /// Every call, in order.
    pub calls: Vec<Call>,
}

impl ScriptedModel {
    /// A table that answers `fallback` (one value per token) until rows are added with `with`.
    pub fn table(fallback: Vec<f32>) -> Self {
        ScriptedModel {
            vocab: fallback.len(),
            script: Script::Table {
                rows: HashMap::new(),
                fallback,
            },
            calls: Vec::new(),
        }
    }

    /// Answers `log_probs` after exactly `sequence` (prompt included). Panics on a row of the
    /// wrong width or on a function-driven model: a test that misuses its double should stop.
    pub fn with(mut self, sequence: &[u32], log_probs: Vec<f32>) -> Self {
        assert_eq!(log_probs.len(), self.vocab, "row for {sequence:?}");
        match &mut self.script {
            Script::Table { rows, .. } => {
                rows.insert(sequence.to_vec(), log_probs);
            }
            Script::Function(_) => panic!("`with` is for table-driven scripted models"),
        }
        self
    }

    /// A model that answers `f(sequence)`, `vocab` values per sequence.
    pub fn from_fn(vocab: usize, f: impl Fn(&[u32]) -> Vec<f32> + Send + 'static) -> Self {
        ScriptedModel {
            vocab,
            script: Script::Function(Box::new(f)),
            calls: Vec::new(),
        }
    }
}

impl NextTokenModel for ScriptedModel {
    type Error = std::convert::Infallible;

    fn vocab_size(&self) -> usize {
        self.vocab
    }

    fn next_log_probs(&mut self, step: &Step<'_>) -> Result<Vec<f32>, Self::Error> {
        self.calls.push(Call {
            sequences: step.sequences.to_vec(),
            parents: step.parents.map(<[usize]>::to_vec),
        });
        let mut out = Vec::with_capacity(step.sequences.len() * self.vocab);
        for s in step.sequences {
            match &self.script {
                Script::Table { rows, fallback } => {
                    out.extend_from_slice(rows.get(s).unwrap_or(fallback))
                }
                Script::Function(f) => out.extend(f(s)),
            }
        }
        Ok(out)
    }
}
