//! Inputs of a run that cut long inputs at the row length (`long = "truncate"`): each input is
//! encoded as the stage encoded its test split (same tokenizer, `[CLS] a [SEP] (b [SEP])`, same
//! sequence length), one row each, and a part of the inputs runs as one batch.

use super::inputs::Input;
use super::model::RowModel;
use super::prediction::{Prediction, argmax};
use crate::config::DownstreamTask;
use crate::data::{Row, Tok, encode_pair, encode_single};
use crate::experiment::artifacts::LoadedEncoder;
use crate::experiment::stage::SavedHead;
use crate::interop::{LOGITS, PROBABILITIES};
use crate::task::Target;
use anyhow::{Result, bail};

/// One encoded row and, for tagging, the position of each word's first token.
struct Encoded {
    row: Row,
    word_starts: Vec<usize>,
}

fn encode(tok: &Tok, task: DownstreamTask, input: &Input, seq: usize) -> Result<Encoded> {
    let (row, word_starts) = match task.target() {
        Target::Tags => {
            let words: Vec<&str> = input.text.split_whitespace().collect();
            let (ids, word_of) = tok.encode_words(&words)?;
            let row = encode_single(&ids, seq)?;
            // The words whose first token fits the row, at their row position (after [CLS]).
            let kept = ids.len().min(seq - 2);
            let starts = crate::data::word_starts(&word_of[..kept])
                .into_iter()
                .map(|i| i + 1)
                .collect();
            (row, starts)
        }
        Target::Class if task.needs_text_pair() => {
            let b = tok.encode(input.pair.as_deref().unwrap_or(""))?;
            (encode_pair(&tok.encode(&input.text)?, &b, seq)?, vec![])
        }
        Target::Class => (encode_single(&tok.encode(&input.text)?, seq)?, vec![]),
        Target::Answer => bail!("{} inputs are windowed (see predict::span)", task.name()),
    };
    Ok(Encoded { row, word_starts })
}

/// Inputs cut at the row length, one row each, as one batch.
pub(crate) fn predict_rows(
    model: &mut RowModel,
    enc: &LoadedEncoder,
    head: &SavedHead,
    part: &[Input],
) -> Result<Vec<Prediction>> {
    let seq = model.seq;
    let classes = head.labels.len();
    let rows: Vec<Encoded> = part
        .iter()
        .map(|i| encode(&enc.tok, head.task, i, seq))
        .collect::<Result<_>>()?;
    let o = model.run(rows.iter().map(|r| &r.row))?;
    let logits = o.f32(LOGITS)?;
    let probs = o.f32(PROBABILITIES)?;
    Ok(rows
        .iter()
        .enumerate()
        .map(|(r, row)| {
            if head.task.target() == Target::Tags {
                let tags = row
                    .word_starts
                    .iter()
                    .map(|&t| {
                        let at = (r * seq + t) * classes;
                        argmax(&logits.data[at..at + classes])
                    })
                    .collect();
                Prediction::Tags(tags)
            } else {
                let at = r * classes..(r + 1) * classes;
                Prediction::Label {
                    logits: logits.data[at.clone()].to_vec(),
                    probs: probs.data[at].to_vec(),
                }
            }
        })
        .collect())
}
