//! Span (extractive QA) datasets: the SQuAD v1.1 JSON layout (`.json`:
//! `data[].paragraphs[].context`, `qas[].id/question/answers[].text/answer_start`) and flat
//! tables (`.tsv`, `.jsonl`, optionally `.gz`: one question per row with the dataset's
//! `question`, `context`, `answer` and `answer_start` columns, and its split column). Every gold
//! answer must be the context's text at its offset; a mismatch, a missing context or question,
//! and non-UTF-8 bytes are input errors naming the file and the line (for JSON: the line of the
//! question's `id`, or of its `question`, found in the file's text, and the JSON path).

use crate::config::{DatasetConfig, DatasetFiles};
use crate::data::dataset::read_splits;
use crate::data::error::{DataError, Result};
use crate::data::source::{Split, read_bytes, resolve, utf8};
use crate::data::span::{Answer, SpanExample};
use serde_json::Value;
use std::path::Path;

/// A span dataset, split.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpanDataset {
    pub train: Vec<SpanExample>,
    pub dev: Vec<SpanExample>,
    pub test: Vec<SpanExample>,
}

impl SpanDataset {
    pub fn split(&self, split: Split) -> &[SpanExample] {
        match split {
            Split::Train => &self.train,
            Split::Dev => &self.dev,
            Split::Test => &self.test,
        }
    }

    /// The train questions and contexts, for fitting a tokenizer.
    pub fn train_texts(&self) -> Vec<&str> {
        self.train
            .iter()
            .flat_map(|e| [e.question.as_str(), e.context.as_str()])
            .collect()
    }
}

/// An example as read, with its split (from a split column) when the file has one.
struct Read {
    example: SpanExample,
    split: Option<Split>,
}

/// Reads a span dataset, assigns splits (column, seeded ratios, or one file per split; a SQuAD
/// JSON file has no split column) and applies `filter.max_train` / `max_dev` / `max_test`.
pub fn load_span_dataset(cfg: &DatasetConfig, base_dir: &Path) -> Result<SpanDataset> {
    let [train, dev, test] = read_splits(cfg, base_dir, |path| {
        let what = path.display().to_string();
        let name = what.to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let text = utf8(path, read_bytes(path)?)?;
        let rows = if name.ends_with(".json") {
            if cfg.split.is_some() {
                return Err(DataError::InvalidConfig {
                    what,
                    message: "a SQuAD JSON file has no split column (hint: use ratios, or one file per split with train, dev and test)".into(),
                });
            }
            read_squad_json(path, &text)?
        } else if name.ends_with(".tsv") || name.ends_with(".jsonl") {
            read_flat(path, &text, cfg, name.ends_with(".jsonl"))?
        } else {
            return Err(DataError::InvalidConfig {
                what,
                message: "a span dataset is a SQuAD .json file or a .tsv/.jsonl table".into(),
            });
        };
        if rows.is_empty() {
            return Err(DataError::EmptyInput {
                path: path.to_path_buf(),
                what: "questions",
            });
        }
        Ok(rows.into_iter().map(|r| (r.example, r.split)).collect())
    })?;
    let mut ds = SpanDataset { train, dev, test };
    let f = &cfg.filter;
    for (xs, max) in [
        (&mut ds.train, f.max_train),
        (&mut ds.dev, f.max_dev),
        (&mut ds.test, f.max_test),
    ] {
        if let Some(m) = max {
            xs.truncate(m);
        }
    }
    if ds.train.is_empty() {
        return Err(DataError::EmptySplit {
            what: first_file(cfg, base_dir).display().to_string(),
            split: "train",
        });
    }
    Ok(ds)
}

/// The dataset's one file, or its train file.
fn first_file(cfg: &DatasetConfig, base_dir: &Path) -> std::path::PathBuf {
    match cfg.files() {
        Some(DatasetFiles::One(p)) | Some(DatasetFiles::PerSplit { train: p, .. }) => {
            resolve(base_dir, p)
        }
        None => base_dir.to_path_buf(),
    }
}

/// Whether a dataset file holds span examples rather than labeled texts: a SQuAD `.json` file,
/// or a table whose header has the question and context columns but not the text column (read
/// from its first line). For readers that do not know the task, such as tokenizer fitting.
pub fn looks_like_span(cfg: &DatasetConfig, base_dir: &Path) -> bool {
    let path = first_file(cfg, base_dir);
    let name = path.display().to_string().to_ascii_lowercase();
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    if name.ends_with(".json") {
        return true;
    }
    let Ok(bytes) = read_bytes(&path) else {
        return false;
    };
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let first = String::from_utf8_lossy(first);
    let has = |c: &str| {
        if name.ends_with(".jsonl") {
            first.contains(&format!("\"{c}\""))
        } else {
            first.split('\t').any(|h| h.trim() == c)
        }
    };
    has(&cfg.question) && has(&cfg.context) && !has(&cfg.text)
}

fn line_at(text: &str, byte: usize) -> usize {
    1 + text.as_bytes()[..byte.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

fn parse_err(path: &Path, line: usize, message: String) -> DataError {
    DataError::Parse {
        path: path.to_path_buf(),
        line,
        message,
    }
}

/// Checks that every answer is the context's text at its offset.
fn check_answers(path: &Path, line: usize, at: &str, e: &SpanExample) -> Result<()> {
    if e.context.trim().is_empty() {
        return Err(parse_err(
            path,
            line,
            format!("{at}: missing or empty context"),
        ));
    }
    if e.question.trim().is_empty() {
        return Err(parse_err(
            path,
            line,
            format!("{at}: missing or empty question"),
        ));
    }
    for (k, a) in e.answers.iter().enumerate() {
        let found: String = e
            .context
            .chars()
            .skip(a.start)
            .take(a.text.chars().count())
            .collect();
        if found != a.text || a.text.is_empty() {
            return Err(parse_err(
                path,
                line,
                format!(
                    "{at}: answer {k} {:?} is not the context's text at answer_start {} (found {found:?}) (hint: answer_start counts characters from 0)",
                    a.text, a.start
                ),
            ));
        }
    }
    Ok(())
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn offset_field(v: &Value) -> Option<usize> {
    match v {
        Value::Number(n) => n.as_u64().map(|n| n as usize),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The SQuAD v1.1 layout. A question's line is found by searching the text, in file order, for
/// its `id` value (or its `question` value when it has no id).
fn read_squad_json(path: &Path, text: &str) -> Result<Vec<Read>> {
    let root: Value = serde_json::from_str(text)
        .map_err(|e| parse_err(path, e.line(), format!("invalid JSON: {e}")))?;
    let Some(data) = root.get("data").and_then(Value::as_array) else {
        return Err(parse_err(
            path,
            1,
            "expected a top-level \"data\" array (SQuAD v1.1 layout)".into(),
        ));
    };
    let mut cursor = 0usize;
    let locate = |cursor: &mut usize, needle: &Value| -> usize {
        let pat = needle.to_string();
        if let Some(i) = text[*cursor..].find(&pat) {
            *cursor += i;
            let line = line_at(text, *cursor);
            *cursor += pat.len();
            return line;
        }
        line_at(text, *cursor)
    };
    let mut out = Vec::new();
    for (i, article) in data.iter().enumerate() {
        let paragraphs = article.get("paragraphs").and_then(Value::as_array);
        for (j, p) in paragraphs.into_iter().flatten().enumerate() {
            let context = str_field(p, "context").unwrap_or("").to_string();
            let qas = p.get("qas").and_then(Value::as_array);
            for (k, qa) in qas.into_iter().flatten().enumerate() {
                let at = format!("data[{i}].paragraphs[{j}].qas[{k}]");
                let key = qa.get("id").or_else(|| qa.get("question"));
                let line = match key {
                    Some(k) => locate(&mut cursor, k),
                    None => line_at(text, cursor),
                };
                let id = match qa.get("id") {
                    Some(Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                    None => at.clone(),
                };
                let mut answers = Vec::new();
                for (a, ans) in qa
                    .get("answers")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let (Some(t), Some(s)) = (
                        str_field(ans, "text"),
                        ans.get("answer_start").and_then(offset_field),
                    ) else {
                        return Err(parse_err(
                            path,
                            line,
                            format!(
                                "{at} (id {id}): answers[{a}] needs \"text\" and a non-negative \"answer_start\""
                            ),
                        ));
                    };
                    answers.push(Answer {
                        text: t.to_string(),
                        start: s,
                    });
                }
                if answers.is_empty() {
                    return Err(parse_err(path, line, format!("{at} (id {id}): no answers")));
                }
                let example = SpanExample {
                    id: id.clone(),
                    question: str_field(qa, "question").unwrap_or("").to_string(),
                    context: context.clone(),
                    answers,
                };
                check_answers(path, line, &format!("{at} (id {id})"), &example)?;
                out.push(Read {
                    example,
                    split: None,
                });
            }
        }
    }
    Ok(out)
}

/// One question per row of a TSV (with a header) or JSONL file.
fn read_flat(path: &Path, text: &str, cfg: &DatasetConfig, jsonl: bool) -> Result<Vec<Read>> {
    let cols = [
        cfg.question.as_str(),
        cfg.context.as_str(),
        cfg.answer.as_str(),
        cfg.answer_start.as_str(),
    ];
    let mut out = Vec::new();
    let mut header: Option<Vec<String>> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let raw = raw.trim_end_matches('\r');
        if raw.trim().is_empty() {
            continue;
        }
        let fields: Vec<Option<String>> = if jsonl {
            let v: Value = serde_json::from_str(raw)
                .map_err(|e| parse_err(path, line, format!("invalid JSON: {e}")))?;
            let get = |k: &str| {
                v.get(k).map(|x| match x {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            };
            cols.iter()
                .map(|c| get(c))
                .chain([cfg.split.as_deref().and_then(get)])
                .collect()
        } else {
            let parts: Vec<&str> = raw.split('\t').collect();
            let Some(h) = &header else {
                header = Some(parts.iter().map(|s| s.trim().to_string()).collect());
                continue;
            };
            let get = |k: &str| {
                h.iter()
                    .position(|c| c == k)
                    .and_then(|i| parts.get(i))
                    .map(|s| s.to_string())
            };
            cols.iter()
                .map(|c| get(c))
                .chain([cfg.split.as_deref().and_then(get)])
                .collect()
        };
        let missing = |i: usize, f: &Option<String>| -> Result<String> {
            f.clone().ok_or_else(|| {
                parse_err(
                    path,
                    line,
                    format!("no '{}' field (the span columns are question = '{}', context = '{}', answer = '{}', answer_start = '{}')", cols[i], cols[0], cols[1], cols[2], cols[3]),
                )
            })
        };
        let question = missing(0, &fields[0])?;
        let context = fields[1].clone().unwrap_or_default();
        let answer = missing(2, &fields[2])?;
        let start_s = missing(3, &fields[3])?;
        let start = start_s.trim().parse::<usize>().map_err(|_| {
            parse_err(
                path,
                line,
                format!(
                    "column '{}': expected a character offset, found {start_s:?}",
                    cols[3]
                ),
            )
        })?;
        let split = match (&cfg.split, &fields[4]) {
            (None, _) => None,
            (Some(c), None) => {
                return Err(parse_err(path, line, format!("no split field '{c}'")));
            }
            (Some(_), Some(v)) => Some(Split::parse(v).ok_or_else(|| DataError::UnknownSplit {
                path: path.to_path_buf(),
                line,
                found: v.clone(),
            })?),
        };
        let example = SpanExample {
            id: format!("line{line}"),
            question,
            context,
            answers: vec![Answer {
                text: answer,
                start,
            }],
        };
        check_answers(path, line, &format!("row {line}"), &example)?;
        out.push(Read { example, split });
    }
    Ok(out)
}
