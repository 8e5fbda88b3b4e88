//! What truncation cuts, before anything runs: the `truncation` section of `embedlab plan`.
//!
//! Counting needs the tokenizer. It is known when it is a file (`tokenizer.kind = "file"`) or
//! when its stage has finished under the results folder; otherwise the section says it is
//! unknown until the tokenizer is fitted. The downstream stage records the same counts in
//! runs.csv (`data.NAME.truncated_examples`, `data.NAME.cut_token_share`).

use super::plan::{DataSource, Plan, StageConfig};
use super::stage::files;
use crate::config::{LongInputs, TokenizerKind};
use crate::data::{self, Tok, Truncation};
use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// One line per downstream dataset and sequence length: how many examples exceed `seq_len` and
/// the share of their tokens cut (every split together). A data or tokenizer error is returned
/// as its message.
pub fn truncation_report(plan: &Plan, out_dir: &Path) -> Result<String, String> {
    let mut out = String::from("\ntruncation (examples longer than seq_len, tokens cut)\n");
    let mut seen = BTreeSet::new();
    for stage in &plan.stages {
        let StageConfig::Downstream {
            downstream,
            encoder,
            data,
            tokenizer,
            ..
        } = &stage.config
        else {
            continue;
        };
        let DataSource::Dataset(dc) = &data.source else {
            continue;
        };
        // A task that windows its own inputs (span: every context) cuts nothing.
        if downstream.task.windows_itself() {
            continue;
        }
        let seq = downstream.seq_len.min(encoder.max_len);
        if !seen.insert(format!(
            "{}:{seq}:{tokenizer}:{:?}:{:?}:{:?}:{}",
            data.name,
            downstream.task,
            downstream.long_inputs(),
            downstream.stride,
            downstream.batch_size
        )) {
            continue;
        }
        let windows = downstream.long_inputs() == LongInputs::Windows;
        let head = format!(
            "  dataset.{} at seq_len {seq}{}",
            data.name,
            if windows { " in windows" } else { "" }
        );
        let Some(tok_path) = tokenizer_file(plan, out_dir, tokenizer) else {
            let _ = writeln!(
                out,
                "{head}: unknown until the tokenizer is fitted (stage {tokenizer})"
            );
            continue;
        };
        let tok = Tok::load(&tok_path).map_err(|e| format!("{}: {e}", tok_path.display()))?;
        let (ds, _) = data::load_dataset(dc, Path::new(""))
            .map_err(|e| format!("dataset.{}: {e}", data.name))?;
        let stride = data::stride_or_default(downstream.stride, seq);
        let cap = downstream
            .task
            .pools_windows()
            .then_some(downstream.batch_size);
        let labels = downstream.task.label_set(&ds);
        let (mut t, mut rows) = (Truncation::default(), 0);
        for split in data::Split::ALL {
            let xs = ds.split(split);
            let items = downstream
                .task
                .items(xs, &tok, &labels)
                .map_err(|e| format!("dataset.{}: {e}", data.name))?;
            if windows {
                let w = data::window_items(&items, seq, stride, cap);
                rows += w.items.len();
                t.add(w.cut);
            } else {
                t.add(Truncation::of_items(&items, seq));
            }
        }
        let read = if windows {
            format!(
                ", read in windows ({:.2} per example)",
                rows as f64 / t.examples.max(1) as f64
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "{head}: {} of {} examples exceed it ({:.1}%){read}, {:.1}% of tokens cut",
            t.truncated,
            t.examples,
            100.0 * t.truncated_share(),
            100.0 * t.cut_share(),
        );
    }
    Ok(if seen.is_empty() { String::new() } else { out })
}

/// The tokenizer.json a downstream stage will read, when it exists already: the configured file,
/// or the finished tokenizer (or import) stage's.
fn tokenizer_file(plan: &Plan, out_dir: &Path, key: &str) -> Option<PathBuf> {
    let finished = out_dir.join(".stages").join(key).join(files::TOKENIZER);
    if finished.is_file() {
        return Some(finished);
    }
    plan.stages.iter().find_map(|s| match &s.config {
        StageConfig::Tokenizer { tokenizer: t, .. } if s.key == key => match (t.kind, &t.path) {
            (TokenizerKind::File, Some(path)) if path.is_file() => Some(path.clone()),
            _ => None,
        },
        _ => None,
    })
}
