//! End to end, extractive QA (`task = "span"`): the real binary learns a planted answer (the
//! word after "is", anywhere in contexts longer than one window) under scratch, frozen and
//! fine-tuned transfer; `predict` finds an answer beyond the first window and `export --head`
//! writes the span model; malformed SQuAD files are invalid input naming the file and line.
use crate::cli::{col, embedlab, read_csv};
use crate::score;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/e2e")
        .join(name)
}

fn num(h: &[String], r: &[String], name: &str) -> f64 {
    col(h, r, name)
        .parse()
        .unwrap_or_else(|_| panic!("{name} = {:?} is not a number", col(h, r, name)))
}

/// The tiny experiment with downstream C a span task on the planted-answer fixture: contexts of
/// 14-20 words, rows of 16 tokens (3 question tokens), so most need 2-3 windows.
fn span_override(dir: &Path, transfers: &str) -> PathBuf {
    let over = dir.join("span.toml");
    let text = format!(
        r#"seeds = [1]
[dataset.qa]
path = "{path}"
split = "split"
[tokenizer]
fit_on = ["text", "qa"]
[downstream.C]
task = "span"
data = "qa"
epochs = 12
batch_size = 16
max_answer_tokens = 3
optimizer = {{ lr = 5e-3 }}
[sweep]
"downstream.C.transfer" = [{transfers}]
"#,
        path = fixture("span.tsv").display()
    );
    std::fs::write(&over, text).unwrap();
    over
}

#[test]
fn span_task_learns_a_planted_answer_and_predicts_beyond_the_first_window() {
    let dir = tempfile::tempdir().unwrap();
    let over = span_override(dir.path(), r#""scratch", "frozen", "finetune""#);
    let out = dir.path().join("out");
    let (code, err) = embedlab(&[
        "run",
        fixture("tiny.toml").to_str().unwrap(),
        over.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (h, rows) = read_csv(&out.join("tiny/runs.csv"));
    assert_eq!(rows.len(), 3);
    let test = score::split_rows(&fixture("span.tsv"), "test");
    let gold = score::column(&test, "answer");
    for r in &rows {
        assert_eq!(col(&h, r, "status"), "ok", "{r:?}");
        let (em, f1) = (num(&h, r, "test_exact_match"), num(&h, r, "test_f1"));
        let dev = num(&h, r, "dev_exact_match");
        assert!(f1 >= em, "{em} {f1}");
        assert!(num(&h, r, "dev_f1") >= dev);
        // The scores are SQuAD's of the answers `predict` of the run gives the test questions.
        let run = out.join("tiny/runs").join(col(&h, r, "run_id"));
        let answers = score::predict(&run, &test, &["question", "context"], "answer", dir.path());
        let (pred_em, pred_f1) = score::squad_scores(&gold, &answers);
        assert!((em - pred_em).abs() < 1e-12, "{r:?}: predict EM {pred_em}");
        assert!((f1 - pred_f1).abs() < 1e-12, "{r:?}: predict F1 {pred_f1}");
        // Chance is about 1/17 (one of the context's words), and always answering the word at
        // one position is right for at most 7 of the 60 test questions; the trained encoders
        // find it. The frozen one (20 pretraining steps) scores that 7/60.
        if col(&h, r, "transfer") != "frozen" {
            assert!(em > 0.5, "{}: exact match {em}", col(&h, r, "transfer"));
        }
        assert!(num(&h, r, "data.qa.windows_per_example") > 1.5);
    }
    let report = std::fs::read_to_string(out.join("tiny/report.md")).unwrap();
    assert!(
        report.contains("test_exact_match") && report.contains("test_f1"),
        "{report}"
    );
    let (ch, crows) = read_csv(&out.join("tiny/curves.csv"));
    assert!(
        crows
            .iter()
            .any(|r| col(&ch, r, "split") == "dev" && col(&ch, r, "metric") == "exact_match")
    );

    // The fine-tuned run predicts answers that lie beyond its first window (10 context tokens).
    let run = rows
        .iter()
        .find(|r| col(&h, r, "transfer") == "finetune")
        .map(|r| out.join("tiny/runs").join(col(&h, r, "run_id")))
        .unwrap();
    let inputs = dir.path().join("q.tsv");
    let contexts = [
        (
            "red blue green cold warm small big old new dark light soft is stone hard",
            "stone",
        ),
        (
            "old new dark light soft hard round flat red blue green cold warm is bell small",
            "bell",
        ),
    ];
    let mut tsv = "question\tcontext\n".to_string();
    for (c, _) in contexts {
        tsv += &format!("what is it\t{c}\n");
    }
    std::fs::write(&inputs, tsv).unwrap();
    let pred = dir.path().join("pred.csv");
    let (code, err) = embedlab(&[
        "predict",
        run.to_str().unwrap(),
        "--input",
        inputs.to_str().unwrap(),
        "--out",
        pred.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (ph, prows) = read_csv(&pred);
    assert_eq!(ph, ["question", "context", "answer", "score"]);
    for (r, (_, want)) in prows.iter().zip(contexts) {
        assert_eq!(col(&ph, r, "answer"), want, "{r:?}");
        assert!(num(&ph, r, "score").is_finite());
    }

    let onnx = dir.path().join("span.onnx");
    let (code, err) = embedlab(&[
        "export",
        run.to_str().unwrap(),
        "--head",
        "--out",
        onnx.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(std::fs::metadata(&onnx).unwrap().len() > 1000);
}

/// A small experiment over a SQuAD JSON file `json`; returns the exit code and stderr of `run`.
fn run_squad(json: &[u8]) -> (i32, String, PathBuf) {
    let dir = tempfile::tempdir().unwrap().keep();
    let squad = dir.join("bad.json");
    std::fs::write(&squad, json).unwrap();
    let over = dir.join("qa.toml");
    let text = format!(
        r#"seeds = [1]
[dataset.qa]
path = "{}"
[downstream.C]
task = "span"
data = "qa"
"#,
        squad.display()
    );
    std::fs::write(&over, text).unwrap();
    let out = dir.join("out");
    let (code, err) = embedlab(&[
        "run",
        fixture("tiny.toml").to_str().unwrap(),
        over.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    (code, err, squad)
}

const GOOD_QA: &str =
    r#"{"id": "q1", "question": "what?", "answers": [{"text": "dog", "answer_start": 4}]}"#;

#[test]
fn malformed_squad_files_exit_2_naming_file_and_line() {
    let para = |context: &str, qa: &str| {
        format!(
            "{{\"data\": [{{\"title\": \"t\", \"paragraphs\": [\n{{\"context\": {context},\n\"qas\": [\n{GOOD_QA},\n{qa}\n]}}]}}]}}\n"
        )
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "answer not at its offset",
            para(
                "\"the dog ran\"",
                r#"{"id": "q2", "question": "who?", "answers": [{"text": "dog", "answer_start": 0}]}"#,
            )
            .into_bytes(),
            "bad.json:5: data[0].paragraphs[0].qas[1] (id q2): answer 0 \"dog\" is not the context's text at answer_start 0",
        ),
        (
            "missing context",
            para(
                "null",
                r#"{"id": "q2", "question": "who?", "answers": [{"text": "dog", "answer_start": 4}]}"#,
            )
            .into_bytes(),
            "bad.json:4: data[0].paragraphs[0].qas[0] (id q1): missing or empty context",
        ),
        (
            "not UTF-8",
            {
                let mut b = para("\"the dog ran\"", GOOD_QA.replace("q1", "q2").as_str())
                    .into_bytes();
                let at = b.iter().position(|&c| c == b'w').unwrap();
                b[at] = 0xff;
                b
            },
            "bad.json:4: invalid UTF-8",
        ),
        ("invalid JSON", b"{\"data\": [\n{,}\n]}".to_vec(), "bad.json:2: invalid JSON"),
    ];
    for (what, bytes, want) in cases {
        let (code, err, _) = run_squad(&bytes);
        assert_eq!(code, 2, "{what}: {err}");
        assert!(err.contains(want), "{what}: expected {want:?} in\n{err}");
    }
    // The well-formed file is read (its 2 questions leave no test split under the default
    // ratios, which is the next check).
    let ok = para(
        "\"the dog ran\"",
        r#"{"id": "q2", "question": "who?", "answers": [{"text": "ran", "answer_start": 8}, {"text": "dog ran", "answer_start": 4}]}"#,
    );
    let (code, err, _) = run_squad(ok.as_bytes());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("has no test questions"), "{err}");
}
