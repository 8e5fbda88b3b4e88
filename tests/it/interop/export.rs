//! `export` and `embed` on a tiny trained run: the exported model has symbolic batch and sequence
//! axes, `embed` gives the same vectors from the run directory and from the exported file, and
//! (when Python has onnxruntime) Python's ONNX Runtime computes the same pooled vectors from the
//! file within 1e-5.
use std::path::Path;

const MAX_ABS: f32 = 1e-5;

use crate::cli::embedlab_io as embedlab;
use crate::external::python_or_skip;

const TEXTS: &[&str] = &[
    "the quick brown fox",
    "a",
    "jumps over the lazy dog and the cat and the dog again",
    "",
    "fox",
];

fn vectors(jsonl: &str) -> Vec<Vec<f32>> {
    jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn max_abs(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
        .fold(0.0, f32::max)
}

/// A one-run experiment on the e2e fixtures: MLM pretraining, then fine-tuning.
fn tiny_run(out: &Path) -> std::path::PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/e2e");
    let toml = format!(
        r#"name = "tiny_export"
seeds = [1]
[corpus.text]
path = "{corpus}"
[dataset.words]
path = "{labeled}"
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
steps = 10
batch_size = 8
seq_len = 16
[downstream.C]
data = "words"
from = "A"
transfer = "finetune"
epochs = 1
batch_size = 8
seq_len = 16
"#,
        corpus = fixtures.join("corpus.txt").display(),
        labeled = fixtures.join("labeled.tsv").display()
    );
    let file = out.join("tiny_export.toml");
    std::fs::write(&file, toml).unwrap();
    let (code, _, err) = embedlab(
        &[
            "run",
            file.to_str().unwrap(),
            "--out",
            out.join("results").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    out.join("results/tiny_export/runs/c001-s1")
}

#[test]
fn exported_run_embeds_the_same_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tiny_run(tmp.path());
    let model = tmp.path().join("export/model.onnx");
    let (code, _, err) = embedlab(
        &[
            "export",
            run.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
            "--pooling",
            "mean",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("sequence axis dynamic"), "{err}");
    assert!(model.with_file_name("tokenizer.json").is_file());
    // Other tools encode with special tokens on: the exported tokenizer.json adds [CLS] and [SEP]
    // itself, around the ids embedlab encodes, and gives a pair its type ids.
    let hf = tokenizers::Tokenizer::from_file(model.with_file_name("tokenizer.json")).unwrap();
    let ours = embedlab::data::Tok::load(&model.with_file_name("tokenizer.json")).unwrap();
    let bare = ours.encode(TEXTS[0]).unwrap();
    let with = hf.encode(TEXTS[0], true).unwrap();
    let mut want = vec![embedlab::data::tokenizer::CLS_ID];
    want.extend(&bare);
    want.push(embedlab::data::tokenizer::SEP_ID);
    assert_eq!(with.get_ids(), want.as_slice());
    let pair = hf.encode((TEXTS[0], TEXTS[1]), true).unwrap();
    let types = pair.get_type_ids();
    assert_eq!((types[0], *types.last().unwrap()), (0, 1), "{types:?}");

    let input = TEXTS.join("\n") + "\n";
    let embed = |path: &Path, batch: &str| {
        let (code, out, err) = embedlab(
            &[
                "embed",
                "--model",
                path.to_str().unwrap(),
                "--format",
                "jsonl",
                "--batch-size",
                batch,
            ],
            Some(&input),
        );
        assert_eq!(code, 0, "{err}");
        vectors(&out)
    };
    let from_file = embed(&model, "2");
    let from_run = embed(&run, "32");
    assert_eq!(from_file.len(), TEXTS.len());
    assert_eq!(from_file[0].len(), 16);
    let d = max_abs(&from_file, &from_run);
    eprintln!("embed: exported file vs run directory, max abs diff {d:e}");
    assert!(d <= MAX_ABS, "{d}");

    // CSV has the same numbers.
    let (_, csv, _) = embedlab(
        &[
            "embed",
            "--model",
            model.to_str().unwrap(),
            "--format",
            "csv",
        ],
        Some("fox\n"),
    );
    let row: Vec<f32> = csv.trim().split(',').map(|x| x.parse().unwrap()).collect();
    assert_eq!(row, from_file[4]);

    // A run directory that is not one, and a scratch-only folder, are input errors.
    let (code, _, err) = embedlab(
        &["export", tmp.path().to_str().unwrap(), "--out", "x.onnx"],
        None,
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a model"), "{err}");

    python_onnxruntime_agrees(&model, &from_file);
}

/// Python's onnxruntime runs the exported file on the token ids `embed` used and gives the same
/// pooled vectors; `onnx.checker` accepts the file when `onnx` is installed.
fn python_onnxruntime_agrees(model: &Path, expected: &[Vec<f32>]) {
    if !python_or_skip(
        "the Python onnxruntime check of the exported model",
        &["onnxruntime", "numpy"],
    ) {
        return;
    }
    let check = python_or_skip("onnx.checker on the exported model", &["onnx"]);
    // The ids `embed` feeds, from our tokenizer (so that Python needs no tokenizer library).
    let tok = embedlab::data::Tok::load(&model.with_file_name("tokenizer.json")).unwrap();
    let ids: Vec<Vec<u32>> = TEXTS
        .iter()
        .map(|t| {
            let mut r = vec![embedlab::data::tokenizer::CLS_ID];
            r.extend(tok.encode(t).unwrap().into_iter().take(14));
            r.push(embedlab::data::tokenizer::SEP_ID);
            r
        })
        .collect();
    let ids_file = model.with_file_name("ids.json");
    std::fs::write(&ids_file, serde_json::to_string(&ids).unwrap()).unwrap();
    let script = r#"
import json, sys
import numpy as np, onnxruntime as ort
model, ids_path, check = sys.argv[1], sys.argv[2], sys.argv[3] == "check"
rows = json.load(open(ids_path))
s = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
b, t = len(rows), max(len(r) for r in rows)
ids = np.zeros((b, t), np.int64); mask = np.zeros((b, t), np.int64)
for i, r in enumerate(rows):
    ids[i, :len(r)] = r; mask[i, :len(r)] = 1
feeds = {"input_ids": ids, "attention_mask": mask}
names = [i.name for i in s.get_inputs()]
if "token_type_ids" in names:
    feeds["token_type_ids"] = np.zeros_like(ids)
feats, pooled = s.run(["token_features", "pooled"], feeds)
if check:
    import onnx
    onnx.checker.check_model(onnx.load(model), full_check=True)
print(json.dumps({"pooled": pooled.tolist(), "features_shape": list(feats.shape),
    "input_shapes": [i.shape for i in s.get_inputs()], "checked": check}))
"#;
    let check_arg = Path::new(if check { "check" } else { "no-check" });
    let v = crate::external::python_json(script, &[model, &ids_file, check_arg]);
    assert_eq!(
        v["input_shapes"][0],
        serde_json::json!(["batch", "sequence"]),
        "{v}"
    );
    let pooled: Vec<Vec<f32>> = serde_json::from_value(v["pooled"].clone()).unwrap();
    let d = max_abs(&pooled, expected);
    eprintln!(
        "Python onnxruntime vs embed: max abs diff {d:e} (onnx.checker ran: {})",
        v["checked"]
    );
    assert!(d <= MAX_ABS, "{d}");
    assert_eq!(v["checked"], check, "{v}");
}
