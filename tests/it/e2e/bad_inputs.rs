//! A catalogue of bad inputs, one table row each: a small experiment (and data files) written to
//! a temporary folder, the real binary run on it, and what must come out: exit code 2 with one
//! clear message naming the file, line and key where there are such, or, for what can only be
//! found mid-grid, a failed run whose reason is in runs.csv while the rest of the grid goes on.
//! Never a panic, and for invalid input nothing written.
//!
//! `cargo test --test it e2e::bad_inputs -- --nocapture` prints the catalogue.

use crate::cli::command;
use crate::external::{skip_here, skip_or_fail};
use std::path::{Path, PathBuf};
use std::process::Command;

const CORPUS: &str = include_str!("../../fixtures/e2e/corpus.txt");
const LABELED: &str = include_str!("../../fixtures/e2e/labeled.tsv");

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

/// `text` with `line` inserted so that it becomes line `n` (1-based).
fn insert_line(text: &str, n: usize, line: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(n - 1, line);
    lines.join("\n") + "\n"
}

/// The fixture dataset without its test rows.
fn without_test_split() -> String {
    LABELED
        .lines()
        .filter(|l| !l.ends_with("\ttest"))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn unreadable_data(dir: &Path, _: &mut Vec<(String, String)>) -> Result<(), String> {
    let file = dir.join("labeled.tsv");
    chmod(&file, 0o000);
    if std::fs::read(&file).is_ok() {
        chmod(&file, 0o644);
        return Err(not_as_root(
            "the case with unreadable data",
            "running as root: chmod 000 does not stop reads (data_path_is_a_directory covers unreadable data)",
        ));
    }
    Ok(())
}

fn read_only_out(dir: &Path, _: &mut Vec<(String, String)>) -> Result<(), String> {
    let out = dir.join("ro");
    std::fs::create_dir(&out).unwrap();
    chmod(&out, 0o555);
    if std::fs::write(out.join("probe"), b"").is_ok() {
        let _ = std::fs::remove_file(out.join("probe"));
        return Err(not_as_root(
            "the case with a read-only results folder",
            "running as root: a mode 555 folder stays writable (output_under_a_regular_file covers this)",
        ));
    }
    Ok(())
}

/// A case's skip reason when file modes cannot stop the process (root, as CI runs): printed
/// visibly, and a skip also under `EMBEDLAB_REQUIRE_EXTERNAL=1`, since no install changes it and
/// another case covers the same message.
fn not_as_root(what: &str, why: &str) -> String {
    skip_here(what, why);
    why.to_string()
}

/// A case's skip reason when this machine lacks an outside tool: printed visibly, and a failure
/// under `EMBEDLAB_REQUIRE_EXTERNAL=1` (unlike the root-only skips above, which stay skips).
fn missing(what: &str, why: &str) -> String {
    skip_or_fail(what, why);
    why.to_string()
}

/// A real shared library that is not ONNX Runtime.
fn other_library(_: &Path, env: &mut Vec<(String, String)>) -> Result<(), String> {
    let candidates = [
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
        "/lib64/libz.so.1",
        "/usr/lib/libz.so.1",
        "/lib/aarch64-linux-gnu/libz.so.1",
    ];
    let lib = candidates
        .iter()
        .find(|p| Path::new(p).exists())
        .ok_or_else(|| {
            missing(
                "the case with a library that is not ONNX Runtime",
                "no libz.so.1 on this machine",
            )
        })?;
    env.push(("ORT_DYLIB_PATH".into(), lib.to_string()));
    Ok(())
}

/// A library that looks like ONNX Runtime 1.10.0 (`OrtGetApiBase` and a version string, no
/// API), compiled with the system C compiler: an ONNX Runtime too old for this build.
fn old_library(dir: &Path, env: &mut Vec<(String, String)>) -> Result<(), String> {
    let src = dir.join("fake_ort.c");
    std::fs::write(
        &src,
        "static const char *version(void) { return \"1.10.0\"; }\n\
         static const void *api(unsigned v) { (void)v; return 0; }\n\
         static const struct { const void *(*get_api)(unsigned); const char *(*get_version)(void); } base = { api, version };\n\
         const void *OrtGetApiBase(void) { return &base; }\n",
    )
    .unwrap();
    let lib = dir.join("libonnxruntime.so.1.10.0");
    let built = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .status();
    match built {
        Ok(s) if s.success() => {
            env.push(("ORT_DYLIB_PATH".into(), lib.to_str().unwrap().to_string()));
            Ok(())
        }
        _ => Err(missing(
            "the case with an old ONNX Runtime",
            "no C compiler (cc) to build a fake old ONNX Runtime",
        )),
    }
}

fn catalogue() -> Vec<Case> {
    let invalid = Case::invalid;
    let tsv_row = |text: &str, label: &str, split: &str| format!("{text}\t{label}\t{split}");
    vec![
        // ---- malformed TOML ----
        invalid("toml_unclosed_table_header", &["invalid TOML"])
            .edit("[encoder]", "[encoder")
            .at("[encoder"),
        invalid("toml_duplicate_key", &["invalid TOML", "duplicate key"])
            .edit("depth = 2", "depth = 2\ndepth = 3")
            .at("depth = 3"),
        invalid("toml_unterminated_string", &["invalid TOML"])
            .edit("name = \"bad\"", "name = \"bad")
            .at("name = \"bad"),
        invalid("toml_bad_number", &["invalid TOML"])
            .edit("depth = 2", "depth = 2x")
            .at("depth = 2x"),
        invalid(
            "experiment_file_not_utf8",
            &["exp.toml", "cannot read", "UTF-8"],
        )
        .toml_bytes(b"name = \"\xff\xfe\"\n"),
        invalid("experiment_file_missing", &["nothere.toml", "cannot read"])
            .arg("{dir}/nothere.toml"),
        // ---- unknown keys ----
        invalid(
            "unknown_key_misspelt",
            &["encoder.depht: unknown key", "did you mean 'depth'"],
        )
        .edit("depth = 2", "depht = 2")
        .at("depht"),
        invalid(
            "unknown_section",
            &["encodr: unknown key", "did you mean 'encoder'"],
        )
        .edit("[encoder]", "[encodr]")
        .at("[encodr]"),
        invalid(
            "unknown_key_in_inline_table",
            &[
                "downstream.C.optimizer.lrr: unknown key",
                "did you mean 'lr'",
            ],
        )
        .append("optimizer = { lrr = 1e-3 }\n")
        .at("optimizer = {"),
        invalid(
            "unknown_top_level_key",
            &["seed: unknown key", "did you mean 'seeds'"],
        )
        .edit("seeds = [1]", "seed = [1]")
        .at("seed = [1]"),
        // ---- wrong types ----
        invalid(
            "string_for_integer",
            &["encoder.depth: expected a non-negative integer, found a string"],
        )
        .edit("depth = 2", "depth = \"two\"")
        .at("depth ="),
        invalid(
            "negative_integer",
            &["encoder.depth: expected a non-negative integer"],
        )
        .edit("depth = 2", "depth = -1")
        .at("depth ="),
        invalid("scalar_for_array", &["seeds: expected an array"])
            .edit("seeds = [1]", "seeds = 1")
            .at("seeds ="),
        invalid(
            "unknown_enum_value",
            &[
                "downstream.C.transfer: unknown value 'freeze'",
                "(expected one of: scratch, frozen, finetune, lp-ft)",
            ],
        )
        .edit("transfer = \"finetune\"", "transfer = \"freeze\"")
        .at("transfer ="),
        invalid("string_for_number", &["encoder.dropout: expected a number"])
            .edit("max_len = 16", "max_len = 16\ndropout = \"high\"")
            .at("dropout ="),
        // ---- out of range ----
        invalid("depth_zero", &["encoder.depth: must be at least 1"])
            .edit("depth = 2", "depth = 0")
            .at("depth ="),
        invalid(
            "heads_do_not_divide_d_model",
            &["encoder.heads: 3 heads do not divide d_model = 16"],
        )
        .edit("heads = 2", "heads = 3")
        .at("heads ="),
        invalid(
            "lr_zero",
            &["downstream.C.optimizer.lr: 0 is not a positive learning rate"],
        )
        .append("optimizer = { lr = 0.0 }\n")
        .at("optimizer ="),
        invalid(
            "lr_negative",
            &["downstream.C.optimizer.lr: -0.001 is not a positive learning rate"],
        )
        .append("optimizer = { lr = -1e-3 }\n")
        .at("optimizer ="),
        invalid(
            "probe_lr_zero",
            &["downstream.C.probe.lr: 0 is not a positive learning rate"],
        )
        .append("probe = { epochs = 50, lr = 0.0 }\n")
        .at("probe ="),
        invalid(
            "probe_epochs_zero",
            &["downstream.C.probe.epochs: must be at least 1"],
        )
        .append("probe = { epochs = 0 }\n")
        .at("probe ="),
        invalid("dropout_one", &["encoder.dropout: 1 is outside [0, 1)"])
            .edit("max_len = 16", "max_len = 16\ndropout = 1.0")
            .at("dropout ="),
        invalid(
            "vocab_size_too_small",
            &["tokenizer.vocab_size: 5 is too small", "5 special tokens"],
        )
        .edit("vocab_size = 120", "vocab_size = 5")
        .at("vocab_size ="),
        invalid(
            "seq_len_beyond_max_len",
            &["downstream.C.seq_len: 64 exceeds encoder.max_len = 16"],
        )
        .edit(
            "epochs = 1\nbatch_size = 8\nseq_len = 16",
            "epochs = 1\nbatch_size = 8\nseq_len = 64",
        )
        .at("seq_len = 64"),
        invalid(
            "batch_size_absurd",
            &["downstream.C.batch_size: 100000000000 is more than the limit"],
        )
        .edit(
            "epochs = 1\nbatch_size = 8",
            "epochs = 1\nbatch_size = 100000000000",
        )
        .at("batch_size = 100000000000"),
        invalid(
            "model_too_large",
            &["encoder.d_model", "parameters, more than the limit"],
        )
        .edit("d_model = 16", "d_model = 65536")
        .edit("ffn = 32", "ffn = 262144")
        .at("d_model ="),
        invalid("steps_zero", &["pretrain.A.steps: must be at least 1"])
            .edit("steps = 4", "steps = 0")
            .at("steps ="),
        invalid("no_seeds", &["seeds: needs at least one seed"])
            .edit("seeds = [1]", "seeds = []")
            .at("seeds ="),
        // ---- contradictions ----
        invalid(
            "frozen_without_pretraining",
            &[
                "downstream.C.transfer",
                "needs a pretraining stage",
                "from = \"none\"",
            ],
        )
        .edit(
            "from = \"A\"\ntransfer = \"finetune\"",
            "from = \"none\"\ntransfer = \"frozen\"",
        )
        .at("transfer ="),
        invalid(
            "layers_beyond_depth",
            &["downstream.C.layers: 3 exceeds encoder.depth = 2"],
        )
        .append("layers = 3\n")
        .at("layers ="),
        invalid(
            "pair_task_on_single_text_data",
            &[
                "downstream.C.task",
                "needs two texts",
                "no text_pair column",
            ],
        )
        .append("task = \"pair\"\n")
        .at("task = \"pair\""),
        invalid(
            "tag_task_on_data_without_tags",
            &[
                "downstream.C",
                "task = \"tag\" needs one tag per word",
                "labeled.tsv:2",
                "1 tag(s) for 9 word(s)",
            ],
        )
        .append("task = \"tag\"\n"),
        invalid(
            "sweep_over_unknown_key",
            &["sweep.\"encoder.depht\"", "did you mean 'depth'"],
        )
        .append("\n[sweep]\n\"encoder.depht\" = [1, 2]\n")
        .at("\"encoder.depht\""),
        invalid(
            "sweep_value_out_of_range",
            &[
                "encoder.depth: must be at least 1",
                "in sweep cell encoder.depth = 0",
            ],
        )
        .append("\n[sweep]\n\"encoder.depth\" = [1, 0]\n")
        .at("\"encoder.depth\" = [1, 0]"),
        invalid(
            "downstream_on_unknown_dataset",
            &[
                "downstream.C.data: unknown dataset 'wrds'",
                "did you mean 'words'",
            ],
        )
        .edit("data = \"words\"", "data = \"wrds\"")
        .at("data = \"wrds\""),
        invalid(
            "split_column_and_ratios",
            &["dataset.words.ratios", "either a split column"],
        )
        .edit(
            "split = \"split\"",
            "split = \"split\"\nratios = [0.8, 0.1, 0.1]",
        )
        .at("ratios ="),
        invalid(
            "ratios_not_summing_to_one",
            &["dataset.words.ratios", "sum to 1"],
        )
        .edit("split = \"split\"", "ratios = [0.8, 0.3, 0.1]")
        .at("ratios ="),
        invalid(
            "invalid_regex_filter",
            &[
                "dataset.words.filter.include",
                "not a valid regular expression",
                "unclosed group",
            ],
        )
        .edit(
            "split = \"split\"",
            "split = \"split\"\nfilter = { include = \"(\" }",
        )
        .at("filter ="),
        // ---- data files ----
        invalid(
            "data_empty_after_filtering_in_one_sweep_cell",
            &[
                "dataset.words",
                "nothing left after filtering",
                "(in sweep cell dataset.words.filter.min_chars = 10000)",
            ],
        )
        .append("\n[sweep]\n\"dataset.words.filter.min_chars\" = [1, 10000]\n"),
        invalid(
            "data_file_missing",
            &["dataset.words.path", "labeled.tsv does not exist"],
        )
        .remove("labeled.tsv"),
        invalid(
            "data_file_unreadable",
            &[
                "dataset.words",
                "labeled.tsv",
                "cannot read",
                "ermission denied",
            ],
        )
        .setup(unreadable_data),
        invalid(
            "data_path_is_a_directory",
            &["dataset.words", "labeled.tsv", "cannot read", "directory"],
        )
        .remove("labeled.tsv")
        .file("labeled.tsv/keep", ""),
        invalid(
            "data_file_empty",
            &["dataset.words", "labeled.tsv: no data"],
        )
        .file("labeled.tsv", ""),
        invalid(
            "data_file_header_only",
            &[
                "dataset.words",
                "labeled.tsv: no data (the file holds no rows after the header)",
            ],
        )
        .file("labeled.tsv", "text\tlabel\tsplit\n"),
        invalid(
            "corpus_blank_lines_only",
            &[
                "corpus.text",
                "corpus.txt: no data (the file holds no non-blank lines)",
            ],
        )
        .file("corpus.txt", "\n  \n\n"),
        invalid(
            "data_empty_after_filtering",
            &[
                "dataset.words",
                "nothing left after filtering",
                "min_chars 72",
            ],
        )
        .edit(
            "split = \"split\"",
            "split = \"split\"\nfilter = { min_chars = 10000 }",
        ),
        invalid(
            "data_ragged_tsv",
            &[
                "dataset.words",
                "labeled.tsv:5: expected 3 fields like the header, found 2",
            ],
        )
        .file(
            "labeled.tsv",
            insert_line(LABELED, 5, "a ragged row\tanimal"),
        ),
        invalid(
            "data_not_utf8",
            &["dataset.words", "labeled.tsv:3: invalid UTF-8"],
        )
        .file("labeled.tsv", {
            let mut b = insert_line(LABELED, 3, "caf\u{e9}\tanimal\ttrain").into_bytes();
            let at = b.windows(2).position(|w| w == "\u{e9}".as_bytes()).unwrap();
            b.splice(at..at + 2, [0xe9]);
            b
        }),
        invalid(
            "data_missing_column",
            &[
                "dataset.words",
                "labeled.tsv:1: column 'lable' (label) not found",
                "did you mean 'label'",
            ],
        )
        .edit("split = \"split\"", "split = \"split\"\nlabel = \"lable\""),
        invalid(
            "data_unknown_split_value",
            &[
                "dataset.words",
                "labeled.tsv:4: split 'tset' is not one of train, dev",
            ],
        )
        .file(
            "labeled.tsv",
            insert_line(LABELED, 4, &tsv_row("a new row", "animal", "tset")),
        ),
        invalid(
            "data_bad_gzip",
            &["dataset.words", "labeled.tsv.gz: not a valid gzip file"],
        )
        .edit("path = \"labeled.tsv\"", "path = \"labeled.tsv.gz\"")
        .file("labeled.tsv.gz", b"\x1f\x8b\x08\x00garbage".to_vec()),
        invalid(
            "unknown_label_in_test",
            &[
                "downstream.C",
                "label 'animall'",
                "labeled.tsv:74",
                "(test split)",
                "never occurs in train",
                "did you mean 'animal'",
                "unseen_labels = \"ignore\"",
            ],
        )
        .file(
            "labeled.tsv",
            format!(
                "{LABELED}{}\n",
                tsv_row("a word for a mule in the land", "animall", "test")
            ),
        ),
        invalid(
            "no_test_examples",
            &["downstream.C", "dataset 'words' has no test examples"],
        )
        .file("labeled.tsv", without_test_split()),
        invalid(
            "tokenizer_file_missing",
            &["tokenizer.path", "tok.json does not exist"],
        )
        .edit(
            "kind = \"wordpiece\"",
            "kind = \"file\"\npath = \"tok.json\"",
        ),
        // ---- ONNX Runtime library ----
        invalid(
            "ort_library_missing",
            &[
                "could not load the ONNX Runtime library",
                "ORT_DYLIB_PATH",
                "/nonexistent/libonnxruntime.so",
                "no such file",
            ],
        )
        .env("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so"),
        invalid(
            "ort_library_not_a_library",
            &[
                "could not load the ONNX Runtime library",
                "libonnxruntime.so",
                "not a loadable library",
            ],
        )
        .file("libonnxruntime.so", "this is not a shared library\n")
        .env("ORT_DYLIB_PATH", "{dir}/libonnxruntime.so"),
        invalid(
            "ort_library_too_old",
            &[
                "could not load the ONNX Runtime library",
                "libonnxruntime.so.1.10.0",
                "ONNX Runtime 1.10.0 is too old",
                "needs >= 1.",
            ],
        )
        .setup(old_library),
        invalid(
            "ort_library_of_another_kind",
            &[
                "could not load the ONNX Runtime library",
                "libz.so",
                "not an ONNX Runtime library",
            ],
        )
        .setup(other_library),
        // ---- output folder ----
        invalid(
            "output_under_a_regular_file",
            &["--out", "cannot write results there", "ot a directory"],
        )
        .file("plain.txt", "x")
        .out("plain.txt/results"),
        invalid(
            "output_dir_read_only",
            &["--out", "cannot write results there", "ermission denied"],
        )
        .setup(read_only_out)
        .out("ro/results"),
        // ---- command line and environment ----
        invalid(
            "set_without_equals",
            &["--set encoder.depth", "expected KEY=VALUE"],
        )
        .arg("--set")
        .arg("encoder.depth"),
        invalid(
            "set_out_of_range",
            &["--set encoder.depth=0", "encoder.depth: must be at least 1"],
        )
        .arg("--set")
        .arg("encoder.depth=0"),
        invalid(
            "env_wrong_type",
            &[
                "environment variable EMBEDLAB_ENCODER__DEPTH",
                "encoder.depth: expected a non-negative integer",
            ],
        )
        .env("EMBEDLAB_ENCODER__DEPTH", "deep"),
        invalid("shard_out_of_range", &["--shard \"3/2\"", "expected I/N"])
            .arg("--shard")
            .arg("3/2"),
        // ---- found only mid-grid: a failed run with its reason, the grid goes on ----
        Case::new(
            "non_finite_loss_downstream",
            Expect::FailedRuns { ok: 1 },
            &["downstream.C", "non-finite loss", "at step"],
        )
        .edit("transfer = \"finetune\"", "transfer = \"scratch\"")
        .append("\n[sweep]\n\"downstream.C.optimizer.lr\" = [3e-3, 1e30]\n"),
        Case::new(
            "non_finite_loss_pretraining",
            Expect::FailedRuns { ok: 1 },
            &["pretrain.A", "non-finite", "at step"],
        )
        .edit(
            "steps = 4",
            "steps = 4\noptimizer = { lr = 1e30, clip_norm = 0.0 }",
        )
        .append("\n[sweep]\n\"downstream.C.transfer\" = [\"scratch\", \"finetune\"]\n"),
    ]
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
