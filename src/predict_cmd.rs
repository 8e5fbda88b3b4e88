//! `embedlab predict`: a finished run's whole model (its downstream stage's saved encoder and
//! head, exported as `export --head` does) over texts from a file, to a CSV of predicted labels
//! and per-label probabilities (tags per word for a tagging run). Texts are encoded as the stage
//! encoded its test split (same tokenizer, `[CLS] a [SEP] (b [SEP])`, same sequence length).
//! Bad paths, runs and inputs are invalid input (exit 2); a failure while predicting is exit 1.

use crate::cli::PredictArgs;
use crate::predict_io::{RowModel, output, run_downstream};
use crate::predict_windows::{self, Prediction, argmax};
use anyhow::{Context, Result, bail};
use embedlab::config::{DownstreamConfig, DownstreamTask, LongInputs};
use embedlab::data::{Row, Tok, encode_pair, encode_single};
use embedlab::experiment::artifacts::{LoadedEncoder, run_encoder};
use embedlab::experiment::stage::SavedHead;
use embedlab::interop::{LOGITS, PROBABILITIES};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

const EXIT_FAILED: u8 = 1;
const EXIT_INVALID_INPUT: u8 = 2;

pub(crate) fn fail(code: u8, message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}

/// One input: a text, and the second text of a pair task.
struct Input {
    text: String,
    pair: Option<String>,
}

/// Reads the inputs: `.tsv`/`.csv` (header row) and `.jsonl` by the dataset's text columns,
/// anything else one text per line.
fn read_inputs(path: &Path, columns: &(String, Option<String>), pair: bool) -> Result<Vec<Input>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (text_col, pair_col) = columns;
    let need_pair = |p: Option<String>, where_: String| -> Result<Option<String>> {
        match (pair, p) {
            (true, None) => bail!(
                "{where_}: a pair run needs the column '{}'",
                pair_col.as_deref().unwrap_or("text_pair")
            ),
            (_, p) => Ok(p),
        }
    };
    match ext.as_str() {
        "tsv" | "csv" => {
            let mut r = csv::ReaderBuilder::new()
                .delimiter(if ext == "tsv" { b'\t' } else { b',' })
                .flexible(true)
                .from_path(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let h: Vec<String> = r.headers()?.iter().map(String::from).collect();
            let at = |c: &str| h.iter().position(|x| x == c);
            let t = at(text_col).with_context(|| {
                format!(
                    "{}: no column '{text_col}' (the run's dataset text column); found {h:?}",
                    path.display()
                )
            })?;
            let p = pair_col.as_deref().and_then(at);
            let mut out = Vec::new();
            for (i, rec) in r.records().enumerate() {
                let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
                let pair_text = p.and_then(|p| rec.get(p)).map(String::from);
                out.push(Input {
                    text: rec.get(t).unwrap_or("").to_string(),
                    pair: need_pair(pair_text, format!("{}: row {}", path.display(), i + 2))?,
                });
            }
            Ok(out)
        }
        "jsonl" => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let mut out = Vec::new();
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let v: serde_json::Value = serde_json::from_str(line)
                    .with_context(|| format!("{}:{}: not JSON", path.display(), i + 1))?;
                let get = |c: &str| v.get(c).and_then(|x| x.as_str()).map(String::from);
                let t = get(text_col).with_context(|| {
                    format!("{}:{}: no string field '{text_col}'", path.display(), i + 1)
                })?;
                let pair_text = pair_col.as_deref().and_then(get);
                out.push(Input {
                    text: t,
                    pair: need_pair(pair_text, format!("{}:{}", path.display(), i + 1))?,
                });
            }
            Ok(out)
        }
        _ => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            if pair {
                bail!(
                    "{}: a pair run needs a .tsv, .csv or .jsonl file with the columns '{text_col}' and '{}'",
                    path.display(),
                    pair_col.as_deref().unwrap_or("text_pair")
                );
            }
            Ok(text
                .lines()
                .map(|l| Input {
                    text: l.to_string(),
                    pair: None,
                })
                .collect())
        }
    }
}

/// One encoded row and, for tagging, the position of each word's first token.
struct Encoded {
    row: Row,
    word_starts: Vec<usize>,
}

fn encode(tok: &Tok, task: DownstreamTask, input: &Input, seq: usize) -> Result<Encoded> {
    let (row, word_starts) = match task {
        DownstreamTask::Tag => {
            let words: Vec<&str> = input.text.split_whitespace().collect();
            let (ids, word_of) = tok.encode_words(&words)?;
            let row = encode_single(&ids, seq)?;
            let kept = ids.len().min(seq - 2);
            let mut starts = Vec::new();
            let mut last = None;
            for (i, &w) in word_of.iter().enumerate().take(kept) {
                if last != Some(w) {
                    starts.push(i + 1);
                }
                last = Some(w);
            }
            (row, starts)
        }
        DownstreamTask::Classify => (encode_single(&tok.encode(&input.text)?, seq)?, vec![]),
        DownstreamTask::Span => bail!("span inputs are windowed (see predict_span)"),
        DownstreamTask::Pair => {
            let b = tok.encode(input.pair.as_deref().unwrap_or(""))?;
            (encode_pair(&tok.encode(&input.text)?, &b, seq)?, vec![])
        }
    };
    Ok(Encoded { row, word_starts })
}

pub(crate) fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn predict(args: PredictArgs) -> ExitCode {
    let prepared = (|| -> Result<_> {
        let enc = run_encoder(&args.run)?;
        let Some(head) = enc.head.clone() else {
            bail!(
                "{} has no trained head: rerun it with this version so that its downstream stage saves its model",
                enc.described
            );
        };
        if head.task == DownstreamTask::Span {
            return Ok(Err(crate::predict_span::prepare(&args, enc)?));
        }
        let (downstream, ds) = run_downstream(&args.run)?;
        let columns = (ds.text.clone(), ds.text_pair.clone());
        let inputs = read_inputs(&args.input, &columns, head.task == DownstreamTask::Pair)?;
        Ok(Ok((enc, head, inputs, downstream)))
    })();
    let prepared = match prepared {
        Ok(Err(span)) => {
            return match crate::predict_span::run(&args, span) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(EXIT_FAILED, format!("{e:#}")),
            };
        }
        Ok(Ok(p)) => Ok(p),
        Err(e) => Err(e),
    };
    let (enc, head, inputs, downstream) = match prepared {
        Ok(p) => p,
        Err(e) => return fail(EXIT_INVALID_INPUT, format!("{e:#}")),
    };
    match run(&args, &enc, &head, &inputs, &downstream) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(EXIT_FAILED, format!("{e:#}")),
    }
}

fn run(
    args: &PredictArgs,
    enc: &LoadedEncoder,
    head: &SavedHead,
    inputs: &[Input],
    downstream: &DownstreamConfig,
) -> Result<()> {
    let mut model = RowModel::new(enc, args.threads)?;
    let mut out = output(args.out.as_deref())?;
    let tagging = head.task == DownstreamTask::Tag;
    let mut header = vec!["text".to_string()];
    if head.task == DownstreamTask::Pair {
        header.push("text_pair".into());
    }
    if tagging {
        header.push("tags".into());
    } else {
        header.push("label".into());
        header.extend(head.labels.iter().map(|l| format!("p_{l}")));
    }
    writeln!(
        out,
        "{}",
        header
            .iter()
            .map(|h| csv_field(h))
            .collect::<Vec<_>>()
            .join(",")
    )?;
    let bar = if std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(inputs.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let chunk = args.batch_size.max(1) as usize;
    let windows = downstream.long_inputs() == LongInputs::Windows;
    for part in inputs.chunks(chunk) {
        let predictions = if windows {
            part.iter()
                .map(|i| {
                    let pair = i.pair.as_deref();
                    predict_windows::predict(
                        &mut model,
                        &enc.tok,
                        &enc.params,
                        downstream,
                        &i.text,
                        pair,
                        chunk,
                    )
                })
                .collect::<Result<Vec<_>>>()?
        } else {
            predict_rows(&mut model, enc, head, part)?
        };
        for (input, p) in part.iter().zip(predictions) {
            let mut fields = vec![csv_field(&input.text)];
            if head.task == DownstreamTask::Pair {
                fields.push(csv_field(input.pair.as_deref().unwrap_or("")));
            }
            match p {
                Prediction::Tags(tags) => {
                    let names: Vec<&str> = tags.iter().map(|&t| head.labels[t].as_str()).collect();
                    fields.push(csv_field(&names.join(" ")));
                }
                Prediction::Label { logits, probs } => {
                    fields.push(csv_field(&head.labels[argmax(&logits)]));
                    fields.extend(probs.iter().map(|p| p.to_string()));
                }
            }
            writeln!(out, "{}", fields.join(","))?;
        }
        bar.inc(part.len() as u64);
    }
    bar.finish_and_clear();
    out.flush()?;
    if let Some(p) = &args.out {
        eprintln!("wrote {} ({} predictions)", p.display(), inputs.len());
    }
    Ok(())
}

/// Inputs cut at the row length, one row each, as one batch.
fn predict_rows(
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
            if head.task == DownstreamTask::Tag {
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
