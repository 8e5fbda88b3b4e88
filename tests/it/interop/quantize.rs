//! `export --quantize int8`: the int8 model of a fine-tuned tiny run has its MatMuls as ONNX
//! Runtime's DynamicQuantizeMatMul, runs (`embed` reads it), and embeds the run's texts with a
//! cosine ≥ 0.99 to the f32 export; the command reports the cosine and the test accuracy of both.
use crate::cli::embedlab_io as embedlab;
use embedlab::graph::onnx_pb::ModelProto;
use prost::Message;
use std::path::Path;

const TINY: &str = "tests/fixtures/e2e/tiny.toml";
const MIN_COSINE: f64 = 0.99;
const TEXTS: &str = "the cat sat on the mat\na dog ran\nwords and more words here\n";

fn embed(model: &Path) -> Vec<Vec<f32>> {
    let (code, out, err) = embedlab(
        &[
            "embed",
            "--model",
            model.to_str().unwrap(),
            "--format",
            "jsonl",
        ],
        Some(TEXTS),
    );
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x * y)).sum();
    let n = |v: &[f32]| v.iter().map(|x| f64::from(x * x)).sum::<f64>().sqrt();
    dot / (n(a) * n(b))
}

/// The figure after `key` in the command's report (`cosine mean 0.99981, ...`).
fn figure(report: &str, key: &str) -> f64 {
    let at = report
        .find(key)
        .unwrap_or_else(|| panic!("no '{key}' in:\n{report}"));
    report[at + key.len()..]
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .find(|s| !s.is_empty())
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn int8_export_runs_and_stays_close_to_f32() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = embedlab(
        &[
            "run",
            TINY,
            "--out",
            tmp.path().to_str().unwrap(),
            "--set",
            "seeds=[1]",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let run = tmp.path().join("tiny/runs/c003-s1");
    let (f32_path, q_path) = (tmp.path().join("f32/m.onnx"), tmp.path().join("q/m.onnx"));
    let (code, _, err) = embedlab(
        &[
            "export",
            run.to_str().unwrap(),
            "--out",
            f32_path.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let (code, _, report) = embedlab(
        &[
            "export",
            run.to_str().unwrap(),
            "--out",
            q_path.to_str().unwrap(),
            "--quantize",
            "int8",
        ],
        None,
    );
    assert_eq!(code, 0, "{report}");
    assert!(figure(&report, "cosine mean") >= MIN_COSINE, "{report}");
    let (a, q) = (figure(&report, "accuracy f32"), figure(&report, ", int8 "));
    // The f32 figure is the run's own test accuracy (printed to 4 decimals), the head applied
    // as the task graph applies it; at a cosine of 0.99 the int8 model changes at most one of
    // the 12 test labels.
    let (h, rows) = crate::cli::read_csv(&tmp.path().join("tiny/runs.csv"));
    let row = rows
        .iter()
        .find(|r| crate::cli::col(&h, r, "run_id") == "c003-s1")
        .unwrap();
    let run_acc: f64 = crate::cli::col(&h, row, "test_accuracy").parse().unwrap();
    assert!(
        (a - run_acc).abs() < 5e-5,
        "f32 {a} vs runs.csv {run_acc}\n{report}"
    );
    assert!((q - a).abs() <= 1.0 / 12.0 + 5e-5, "{report}");

    let proto = ModelProto::decode(std::fs::read(&q_path).unwrap().as_slice()).unwrap();
    let ops: Vec<String> = proto
        .graph
        .unwrap()
        .node
        .iter()
        .map(|n| n.op_type.clone())
        .collect();
    assert!(ops.iter().any(|o| o == "DynamicQuantizeMatMul"), "{ops:?}");
    assert!(
        !ops.iter().any(|o| o == "MatMul"),
        "a MatMul left unquantized: {ops:?}"
    );

    let (full, int8) = (embed(&f32_path), embed(&q_path));
    assert_eq!(full.len(), 3);
    for (x, y) in full.iter().zip(&int8) {
        assert!(cosine(x, y) >= MIN_COSINE, "cosine {}", cosine(x, y));
    }
}
