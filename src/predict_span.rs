//! `embedlab predict` of a span (extractive QA) run: each input's question and context, cut into
//! the windows the stage used (its `seq_len`, `stride` and `long`), through the exported model
//! with its span head; the best span of context tokens over the windows (end ≥ start, at most
//! `max_answer_tokens`) is mapped back to the context's characters. Writes a CSV of
//! `question,context,answer,score` (score: start + end logit of the answer).

use crate::cli::PredictArgs;
use crate::predict_cmd::csv_field;
use crate::predict_io::{RowModel, output, run_downstream};
use anyhow::{Context, Result, bail};
use embedlab::config::{DownstreamConfig, LongInputs};
use embedlab::data::{self, SpanExample, SpanItem, SpanRow};
use embedlab::experiment::artifacts::LoadedEncoder;
use embedlab::interop::LOGITS;
use std::io::Write;
use std::path::Path;

/// A span run ready to predict: its encoder and head, the inputs, and how it windows.
pub struct SpanPrediction {
    enc: LoadedEncoder,
    inputs: Vec<(String, String)>,
    downstream: DownstreamConfig,
}

/// Reads (question, context) pairs from a `.tsv` (header row) or `.jsonl` file with the run's
/// dataset column names (`question`, `context` by default).
fn read_inputs(path: &Path, q: &str, c: &str) -> Result<Vec<(String, String)>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let mut out = Vec::new();
    match ext {
        "tsv" => {
            let mut lines = text.lines().enumerate();
            let Some((_, header)) = lines.next() else {
                bail!("{}: empty file", path.display());
            };
            let h: Vec<&str> = header.split('\t').map(str::trim).collect();
            let at = |col: &str| {
                h.iter()
                    .position(|x| *x == col)
                    .with_context(|| format!("{}: no column '{col}'; found {h:?}", path.display()))
            };
            let (qi, ci) = (at(q)?, at(c)?);
            for (i, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
                let f: Vec<&str> = line.split('\t').collect();
                let (Some(qv), Some(cv)) = (f.get(qi), f.get(ci)) else {
                    bail!("{}:{}: expected {} fields", path.display(), i + 1, h.len());
                };
                out.push((qv.to_string(), cv.to_string()));
            }
        }
        "jsonl" => {
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let v: serde_json::Value = serde_json::from_str(line)
                    .with_context(|| format!("{}:{}: not JSON", path.display(), i + 1))?;
                let get = |k: &str| {
                    v.get(k)
                        .and_then(|x| x.as_str())
                        .map(String::from)
                        .with_context(|| {
                            format!("{}:{}: no string field '{k}'", path.display(), i + 1)
                        })
                };
                out.push((get(q)?, get(c)?));
            }
        }
        _ => bail!(
            "{}: a span run reads questions and contexts from a .tsv (header row) or .jsonl file with the columns '{q}' and '{c}'",
            path.display()
        ),
    }
    Ok(out)
}

/// Reads the run's settings and the inputs (bad input: exit 2 by the caller).
pub fn prepare(args: &PredictArgs, enc: LoadedEncoder) -> Result<SpanPrediction> {
    let (downstream, ds) = run_downstream(&args.run)?;
    let inputs = read_inputs(&args.input, &ds.question, &ds.context)?;
    Ok(SpanPrediction {
        enc,
        inputs,
        downstream,
    })
}

/// Predicts and writes the CSV.
pub fn run(args: &PredictArgs, p: SpanPrediction) -> Result<()> {
    let enc = &p.enc;
    let mut model = RowModel::new(enc, args.threads)?;
    let seq = model.seq;
    let all_windows = p.downstream.long_inputs() == LongInputs::Windows;
    let mut out = output(args.out.as_deref())?;
    writeln!(out, "question,context,answer,score")?;
    for (question, context) in &p.inputs {
        let example = SpanExample {
            id: String::new(),
            question: question.clone(),
            context: context.clone(),
            answers: vec![],
        };
        let item: SpanItem = data::span_item(&example, &enc.tok)?;
        let rows: Vec<SpanRow> = data::span_rows(&item, seq, p.downstream.stride, all_windows)?;
        let mut best = None;
        for chunk in rows.chunks(args.batch_size.max(1) as usize) {
            let o = model.run(chunk.iter().map(|r| &r.row))?;
            // [b, seq, 2]: the start and end logit of every token.
            let logits = o.f32(LOGITS)?;
            for (r, row) in chunk.iter().enumerate() {
                let at = r * seq * 2;
                let tok = &logits.data[at..at + seq * 2];
                let start: Vec<f32> = tok.iter().step_by(2).copied().collect();
                let end: Vec<f32> = tok.iter().skip(1).step_by(2).copied().collect();
                let d = data::best_in_window(&start, &end, row, p.downstream.max_answer_tokens);
                best = data::best_over_windows([best, d]);
            }
        }
        let (answer, score) = match best {
            Some(d) => (
                data::answer_text(context, &item.offsets, &d),
                d.score.to_string(),
            ),
            None => (String::new(), String::new()),
        };
        writeln!(
            out,
            "{},{},{},{}",
            csv_field(question),
            csv_field(context),
            csv_field(&answer),
            score
        )?;
    }
    out.flush()?;
    if let Some(path) = &args.out {
        eprintln!("wrote {} ({} predictions)", path.display(), p.inputs.len());
    }
    Ok(())
}
