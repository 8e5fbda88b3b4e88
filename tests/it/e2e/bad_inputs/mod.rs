//! A catalogue of bad inputs, one table row each: a small experiment (and data files) written to
//! a temporary folder, the real binary run on it, and what must come out: exit code 2 with one
//! clear message naming the file, line and key where there are such, or, for what can only be
//! found mid-grid, a failed run whose reason is in runs.csv while the rest of the grid goes on.
//! Never a panic, and for invalid input nothing written.
//!
//! `cargo test --test it e2e::bad_inputs -- --nocapture` prints the catalogue.

mod catalogue;
mod setup;

use crate::cli::command;
use catalogue::catalogue;
use std::path::{Path, PathBuf};

const CORPUS: &str = include_str!("../../../fixtures/e2e/corpus.txt");
const LABELED: &str = include_str!("../../../fixtures/e2e/labeled.tsv");

/// A valid experiment every case starts from: one seed, one short pretraining, one downstream
/// stage. Cases edit it by replacing text, so the line numbers in messages are real ones.
const BASE: &str = r#"name = "bad"
seeds = [1]

[corpus.text]
path = "corpus.txt"

[dataset.words]
path = "labeled.tsv"
split = "split"

[tokenizer]
kind = "wordpiece"
vocab_size = 120
fit_on = ["text", "words"]
min_frequency = 1

[encoder]
depth = 2
d_model = 16
heads = 2
ffn = 32
max_len = 16

[pretrain.A]
data = "text"
steps = 4
batch_size = 8
seq_len = 16

[downstream.C]
data = "words"
from = "A"
transfer = "finetune"
epochs = 1
batch_size = 8
seq_len = 16
"#;

/// What a case must produce.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// Exit code 2, one `error:` line, nothing written under `--out`.
    Invalid,
    /// Exit code 1: runs.csv holds `failed` rows with the reason (each message substring must be
    /// in every failed row's error) and this many `ok` rows.
    FailedRuns { ok: usize },
}

/// A step that prepares the case folder after the files are written (chmod, environment);
/// `Err(reason)` skips the case on this machine.
type Setup = fn(&Path, &mut Vec<(String, String)>) -> Result<(), String>;

struct Case {
    name: &'static str,
    /// The experiment text (BASE after the case's edits).
    toml: Vec<u8>,
    /// Files of the case folder besides `exp.toml`: (name, content); `None` removes it.
    files: Vec<(&'static str, Option<Vec<u8>>)>,
    /// Extra arguments after `run exp.toml --out DIR`; `{dir}` stands for the case folder.
    args: Vec<String>,
    env: Vec<(String, String)>,
    /// `--out`, relative to the case folder.
    out: &'static str,
    setup: Option<Setup>,
    expect: Expect,
    /// A snippet of the experiment text: the message must name `exp.toml:LINE:` of its line.
    at: Option<&'static str>,
    contains: Vec<&'static str>,
}

impl Case {
    fn new(name: &'static str, expect: Expect, contains: &[&'static str]) -> Case {
        Case {
            name,
            toml: BASE.as_bytes().to_vec(),
            files: Vec::new(),
            args: Vec::new(),
            env: Vec::new(),
            out: "out",
            setup: None,
            expect,
            at: None,
            contains: contains.to_vec(),
        }
    }
    fn invalid(name: &'static str, contains: &[&'static str]) -> Case {
        Case::new(name, Expect::Invalid, contains)
    }
    /// Replaces the first `from` (which must occur) in the experiment text.
    fn edit(mut self, from: &str, to: &str) -> Case {
        let text = String::from_utf8(self.toml).unwrap();
        assert!(text.contains(from), "{}: BASE has no {from:?}", self.name);
        self.toml = text.replacen(from, to, 1).into_bytes();
        self
    }
    fn append(mut self, text: &str) -> Case {
        self.toml.extend_from_slice(text.as_bytes());
        self
    }
    fn toml_bytes(mut self, bytes: &[u8]) -> Case {
        self.toml = bytes.to_vec();
        self
    }
    fn file(mut self, name: &'static str, content: impl Into<Vec<u8>>) -> Case {
        self.files.push((name, Some(content.into())));
        self
    }
    fn remove(mut self, name: &'static str) -> Case {
        self.files.push((name, None));
        self
    }
    fn arg(mut self, a: &str) -> Case {
        self.args.push(a.to_string());
        self
    }
    fn env(mut self, k: &str, v: &str) -> Case {
        self.env.push((k.to_string(), v.to_string()));
        self
    }
    fn out(mut self, out: &'static str) -> Case {
        self.out = out;
        self
    }
    fn setup(mut self, f: Setup) -> Case {
        self.setup = Some(f);
        self
    }
    fn at(mut self, snippet: &'static str) -> Case {
        self.at = Some(snippet);
        self
    }
}

/// (exit code, stderr) of `embedlab run exp.toml --out OUT ARGS...` in the case folder.
fn run_case(case: &Case, dir: &Path, env: &[(String, String)]) -> (Option<i32>, String) {
    let fill = |s: &str| s.replace("{dir}", dir.to_str().unwrap());
    let mut cmd = command();
    cmd.arg("run")
        .arg(dir.join("exp.toml"))
        .arg("--out")
        .arg(dir.join(case.out));
    cmd.args(case.args.iter().map(|a| fill(a)));
    for (k, v) in case.env.iter().chain(env) {
        cmd.env(k, fill(v));
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The 1-based line of the first line of `text` holding `snippet`.
fn line_of(text: &[u8], snippet: &str) -> Option<usize> {
    String::from_utf8_lossy(text)
        .lines()
        .position(|l| l.contains(snippet))
        .map(|i| i + 1)
}

/// Checks one case; `Ok(None)` passed, `Ok(Some(reason))` skipped, `Err` what went wrong.
fn check(case: &Case) -> Result<Option<String>, String> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("exp.toml"), &case.toml).unwrap();
    std::fs::write(dir.join("corpus.txt"), CORPUS).unwrap();
    std::fs::write(dir.join("labeled.tsv"), LABELED).unwrap();
    for (name, content) in &case.files {
        let path = dir.join(name);
        if path.is_dir() {
            std::fs::remove_dir_all(&path).unwrap();
        } else if path.exists() {
            std::fs::remove_file(&path).unwrap();
        }
        if let Some(bytes) = content {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, bytes).unwrap();
        }
    }
    let mut env = Vec::new();
    if let Some(setup) = case.setup
        && let Err(reason) = setup(dir, &mut env)
    {
        return Ok(Some(reason));
    }
    let (code, err) = run_case(case, dir, &env);
    let fail = |what: String| Err(format!("{what}\n--- stderr ---\n{err}"));
    if err.contains("panicked") || err.contains("RUST_BACKTRACE") {
        return fail("panic".into());
    }
    let mut wanted: Vec<String> = case.contains.iter().map(|s| s.to_string()).collect();
    if let Some(snippet) = case.at {
        let line = line_of(&case.toml, snippet)
            .unwrap_or_else(|| panic!("{}: no {snippet:?} in the experiment", case.name));
        wanted.push(format!("exp.toml:{line}:"));
    }
    let out = dir.join(case.out);
    match case.expect {
        Expect::Invalid => {
            if code != Some(2) {
                return fail(format!("exit code {code:?}, expected 2"));
            }
            let errors = err.lines().filter(|l| l.starts_with("error:")).count();
            if errors != 1 {
                return fail(format!("{errors} `error:` lines, expected one message"));
            }
            if let Some(w) = wanted.iter().find(|w| !err.contains(w.as_str())) {
                return fail(format!("the message lacks {w:?}"));
            }
            if out.exists() {
                return fail(format!("{} was written for invalid input", out.display()));
            }
        }
        Expect::FailedRuns { ok } => {
            if code != Some(1) {
                return fail(format!("exit code {code:?}, expected 1"));
            }
            let rows = read_rows(&out.join("bad/runs.csv"));
            let failed: Vec<&Row> = rows.iter().filter(|r| r.status == "failed").collect();
            let n_ok = rows.iter().filter(|r| r.status == "ok").count();
            if failed.is_empty() || n_ok != ok {
                return fail(format!(
                    "{} failed and {n_ok} ok rows, expected some failed and {ok} ok: {rows:?}",
                    failed.len()
                ));
            }
            for r in &failed {
                if let Some(w) = wanted.iter().find(|w| !r.error.contains(w.as_str())) {
                    return fail(format!("run {}'s error lacks {w:?}: {}", r.run_id, r.error));
                }
            }
        }
    }
    Ok(None)
}

#[derive(Debug)]
struct Row {
    run_id: String,
    status: String,
    error: String,
}

fn read_rows(path: &PathBuf) -> Vec<Row> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let col = |name: &str| {
        h.iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let (id, st, er) = (col("run_id"), col("status"), col("error"));
    r.records()
        .map(|x| x.unwrap())
        .map(|x| Row {
            run_id: x[id].to_string(),
            status: x[st].to_string(),
            error: x[er].to_string(),
        })
        .collect()
}

#[test]
fn every_bad_input_gets_one_clear_message_and_no_partial_results() {
    let cases = catalogue();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names must be unique");
    let (mut passed, mut skipped, mut failures) = (0, 0, Vec::new());
    println!("bad-input catalogue ({} cases):", cases.len());
    for (i, case) in cases.iter().enumerate() {
        let expect = match case.expect {
            Expect::Invalid => "exit 2".to_string(),
            Expect::FailedRuns { ok } => format!("exit 1, failed run(s) + {ok} ok"),
        };
        match check(case) {
            Ok(None) => {
                passed += 1;
                println!("{:>3}. {:<46} {expect:<30} ok", i + 1, case.name);
            }
            Ok(Some(reason)) => {
                skipped += 1;
                println!(
                    "{:>3}. {:<46} {expect:<30} SKIPPED: {reason}",
                    i + 1,
                    case.name
                );
            }
            Err(e) => {
                println!("{:>3}. {:<46} {expect:<30} FAILED", i + 1, case.name);
                failures.push(format!("{}: {e}", case.name));
            }
        }
    }
    println!(
        "{passed} passed, {skipped} skipped, {} failed",
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(passed >= 30, "only {passed} cases ran");
}
