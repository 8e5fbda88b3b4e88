//! `embedlab predict`: a finished run's whole model (its downstream stage's saved encoder and
//! head, exported as `export --head` does) over texts from a file, to a CSV of predicted labels
//! and per-label probabilities (tags per word for a tagging run). Texts are encoded as the stage
//! encoded its test split (same tokenizer, `[CLS] a [SEP] (b [SEP])`, same sequence length).
//! Bad paths, runs and inputs are invalid input (exit 2); a failure while predicting is exit 1.

use crate::cli::PredictArgs;
use anyhow::{Context, Result, bail};
use embedlab::config::{DownstreamTask, Experiment};
use embedlab::data::{Tok, encode_pair, encode_single};
use embedlab::experiment::artifacts::run_encoder;
use embedlab::interop::{LOGITS, PROBABILITIES};
use embedlab::runtime::{Feeds, Session, SessionOptions};
use std::io::IsTerminal;
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

/// The text columns of the run's downstream dataset (`text`, `text_pair`).
fn text_columns(run_dir: &Path) -> Result<(String, Option<String>)> {
    let path = run_dir.join("config.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let exp: Experiment = toml::from_str(&text)
        .with_context(|| format!("{}: not a run configuration", path.display()))?;
    let ds = exp
        .downstream
        .values()
        .find_map(|d| exp.dataset.get(&d.data))
        .with_context(|| format!("{}: no downstream dataset", path.display()))?;
    Ok((ds.text.clone(), ds.text_pair.clone()))
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
    ids: Vec<i64>,
    mask: Vec<i64>,
    types: Vec<i64>,
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
    Ok(Encoded {
        ids: row.input_ids,
        mask: row.attention_mask,
        types: row.token_type_ids,
        word_starts,
    })
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
        let columns = text_columns(&args.run)?;
        let inputs = read_inputs(&args.input, &columns, head.task == DownstreamTask::Pair)?;
        Ok(Ok((enc, head, inputs)))
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
    let (enc, head, inputs) = match prepared {
        Ok(p) => p,
        Err(e) => return fail(EXIT_INVALID_INPUT, format!("{e:#}")),
    };
    match run(&args, &enc, &head, &inputs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(EXIT_FAILED, format!("{e:#}")),
    }
}

fn run(
    args: &PredictArgs,
    enc: &embedlab::experiment::artifacts::LoadedEncoder,
    head: &embedlab::experiment::stage::SavedHead,
    inputs: &[Input],
) -> Result<()> {
    let model = enc.export_with_head()?;
    let opts = SessionOptions {
        intra_threads: args.threads,
        ..Default::default()
    };
    let mut session = Session::from_bytes(&enc.described, &model.bytes, &opts)?;
    let segment = session.inputs().iter().any(|i| i.name == "token_type_ids");
    let seq = if model.dynamic_sequence {
        head.seq_len
    } else {
        enc.spec.max_len
    };
    let classes = head.labels.len();
    let mut out: Box<dyn std::io::Write> = match &args.out {
        Some(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            Box::new(std::io::BufWriter::new(
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
            ))
        }
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
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
    for chunk in inputs.chunks(args.batch_size.max(1) as usize) {
        let rows: Vec<Encoded> = chunk
            .iter()
            .map(|i| encode(&enc.tok, head.task, i, seq))
            .collect::<Result<_>>()?;
        let b = rows.len();
        let cat = |f: fn(&Encoded) -> &Vec<i64>| -> Vec<i64> {
            rows.iter().flat_map(|r| f(r).iter().copied()).collect()
        };
        let (ids, mask, types) = (cat(|r| &r.ids), cat(|r| &r.mask), cat(|r| &r.types));
        let mut feeds = Feeds::new();
        feeds
            .i64("input_ids", &[b, seq], &ids)
            .i64("attention_mask", &[b, seq], &mask);
        if segment {
            feeds.i64("token_type_ids", &[b, seq], &types);
        }
        let o = session.run(&feeds)?;
        let logits = o.f32(LOGITS)?;
        let probs = o.f32(PROBABILITIES)?;
        for (r, (input, row)) in chunk.iter().zip(&rows).enumerate() {
            let mut fields = vec![csv_field(&input.text)];
            if head.task == DownstreamTask::Pair {
                fields.push(csv_field(input.pair.as_deref().unwrap_or("")));
            }
            if tagging {
                let tags: Vec<&str> = row
                    .word_starts
                    .iter()
                    .map(|&t| {
                        let at = (r * seq + t) * classes;
                        &head.labels[argmax(&logits.data[at..at + classes])]
                    })
                    .map(String::as_str)
                    .collect();
                fields.push(csv_field(&tags.join(" ")));
            } else {
                let l = &logits.data[r * classes..(r + 1) * classes];
                fields.push(csv_field(&head.labels[argmax(l)]));
                fields.extend(
                    probs.data[r * classes..(r + 1) * classes]
                        .iter()
                        .map(|p| p.to_string()),
                );
            }
            writeln!(out, "{}", fields.join(","))?;
        }
        bar.inc(b as u64);
    }
    bar.finish_and_clear();
    out.flush()?;
    if let Some(p) = &args.out {
        eprintln!("wrote {} ({} predictions)", p.display(), inputs.len());
    }
    Ok(())
}

/// The index of the largest value, as embedlab's scoring picks it.
fn argmax(v: &[f32]) -> usize {
    embedlab::metrics::argmax_rows(v, v.len().max(1))
        .first()
        .map_or(0, |&i| i as usize)
}
