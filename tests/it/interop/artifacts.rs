//! What a run leaves to use after it: downstream stages save their model, so `export` writes the
//! run's final encoder (fine-tuned or trained from scratch, not the one the run started from),
//! and `export --head` the whole model, whose predictions over the test split (in Python's ONNX
//! Runtime, when it is installed) are embedlab's: the same label for every example, so the same
//! accuracy as runs.csv, and logits within 1e-4; `predict` gives runs.csv's test_accuracy, and
//! on a tagging run tags whose span F1 is runs.csv's test_span_f1.
//!
//! The tiny grid: c001 scratch, c002 frozen (feature extraction), c003 finetune; seeds 1 and 2.
use embedlab::model::{Head, Mode, Pooling, TaskHead};
use std::path::{Path, PathBuf};

use crate::cli::embedlab_io as embedlab;

const TINY: &str = "tests/fixtures/e2e/tiny.toml";
const LABELED: &str = "tests/fixtures/e2e/labeled.tsv";
const LOGITS_MAX_ABS: f32 = 1e-4;

fn run_tiny(out: &Path) -> PathBuf {
    let (code, _, err) = embedlab(&["run", TINY, "--out", out.to_str().unwrap()], None);
    assert_eq!(code, 0, "{err}");
    out.join("tiny/runs")
}

fn export(run: &Path, out: &Path, head: bool) -> String {
    let mut args = vec![
        "export",
        run.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    if head {
        args.push("--head");
    }
    let (code, _, err) = embedlab(&args, None);
    assert_eq!(code, 0, "{err}");
    err
}

fn embed(model: &Path, texts: &str) -> Vec<Vec<f32>> {
    let (code, out, err) = embedlab(
        &[
            "embed",
            "--model",
            model.to_str().unwrap(),
            "--format",
            "jsonl",
        ],
        Some(texts),
    );
    assert_eq!(code, 0, "{err}");
    out.lines()
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

/// The stage folder of a run's downstream stage (the last of its stage keys).
fn downstream_stage(runs: &Path, run_id: &str) -> PathBuf {
    let (h, rows) = crate::cli::read_csv(&runs.parent().unwrap().join("runs.csv"));
    let row = rows
        .iter()
        .find(|r| crate::cli::col(&h, r, "run_id") == run_id)
        .unwrap();
    let keys = crate::cli::col(&h, row, "stage_keys");
    let last = keys.split_whitespace().last().unwrap();
    runs.parent()
        .unwrap()
        .parent()
        .unwrap()
        .join(".stages")
        .join(last)
}

fn test_accuracy(runs: &Path, run_id: &str) -> String {
    let (h, rows) = crate::cli::read_csv(&runs.parent().unwrap().join("runs.csv"));
    let row = rows
        .iter()
        .find(|r| crate::cli::col(&h, r, "run_id") == run_id)
        .unwrap();
    crate::cli::col(&h, row, "test_accuracy").to_string()
}

#[test]
fn runs_export_their_final_encoder_and_whole_model() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = run_tiny(tmp.path());
    let texts = "a word for horse or sheep\nthe fig in the land\nrun\n";

    // Every downstream stage saved its model, labels and tokenizer.
    for run in ["c001-s1", "c002-s1", "c003-s1"] {
        let dir = downstream_stage(&runs, run);
        for f in ["params.safetensors", "labels.json", "tokenizer.json"] {
            assert!(dir.join(f).is_file(), "{run}: no {f} in {}", dir.display());
        }
    }

    // Fine-tuned: the exported encoder is the fine-tuned one, not the pretrained one it started
    // from (which is what a run made before downstream stages saved their models exports).
    let finetuned = tmp.path().join("ft/encoder.onnx");
    export(&runs.join("c003-s1"), &finetuned, false);
    let after = embed(&finetuned, texts);
    let saved = downstream_stage(&runs, "c003-s1").join("params.safetensors");
    std::fs::rename(&saved, saved.with_extension("moved")).unwrap();
    let pretrained = tmp.path().join("pre/encoder.onnx");
    export(&runs.join("c003-s1"), &pretrained, false);
    std::fs::rename(saved.with_extension("moved"), &saved).unwrap();
    let before = embed(&pretrained, texts);
    let d = max_abs(&after, &before);
    eprintln!("finetune: exported vs pretrained encoder, max abs diff {d:e}");
    assert!(
        d > 1e-4,
        "the fine-tuned encoder embeds as the pretrained one ({d})"
    );

    // Frozen: the exported encoder is the pretrained one, unchanged.
    let frozen = tmp.path().join("frozen/encoder.onnx");
    export(&runs.join("c002-s1"), &frozen, false);
    assert_eq!(embed(&frozen, texts), before);

    // Scratch: the exported encoder is the trained one, not its seeded initialisation.
    let scratch = tmp.path().join("scratch/encoder.onnx");
    export(&runs.join("c001-s1"), &scratch, false);
    let loaded = embedlab::experiment::artifacts::run_encoder(&runs.join("c001-s1")).unwrap();
    let decls =
        embedlab::model::features_graph(&loaded.spec, 1, 2, None, embedlab::graph::DType::F32)
            .unwrap()
            .params;
    let init = embedlab::train::init_params(&decls, 1).unwrap();
    let moved: Vec<&str> = init
        .iter()
        .filter(|p| loaded.params.get(p.name) != Some(p.data))
        .map(|p| p.name)
        .collect();
    assert!(
        moved.iter().any(|n| n.starts_with("encoder.")),
        "scratch encoder equals its initialisation"
    );
    let trained_model =
        embedlab::interop::encoder_model(&loaded.spec, &loaded.params, loaded.pooling).unwrap();
    let init_model = embedlab::interop::encoder_model(&loaded.spec, &init, loaded.pooling).unwrap();
    let trained_file = tmp.path().join("scratch_check/trained.onnx");
    let init_file = tmp.path().join("scratch_check/init.onnx");
    std::fs::create_dir_all(trained_file.parent().unwrap()).unwrap();
    std::fs::write(&trained_file, &trained_model.bytes).unwrap();
    std::fs::write(&init_file, &init_model.bytes).unwrap();
    std::fs::copy(
        scratch.with_file_name("tokenizer.json"),
        trained_file.with_file_name("tokenizer.json"),
    )
    .unwrap();
    let scratch_vectors = embed(&scratch, texts);
    assert_eq!(embed(&trained_file, texts), scratch_vectors);
    let d = max_abs(&embed(&init_file, texts), &scratch_vectors);
    eprintln!("scratch: exported vs initial encoder, max abs diff {d:e}");
    assert!(d > 1e-4, "{d}");

    // A whole model per transfer mode (end-to-end and feature extraction).
    for run in ["c003-s1", "c002-s1"] {
        let model = tmp.path().join(format!("{run}/model.onnx"));
        let err = export(&runs.join(run), &model, true);
        assert!(err.contains("head over 3 labels"), "{err}");
        whole_model_agrees(&runs, run, &model);
    }
}

/// A test split example as the eval graph sees it.
struct TestRow {
    ids: Vec<i64>,
    mask: Vec<i64>,
    gold: i64,
}

/// The test split of the tiny dataset, encoded as the downstream stage encodes it.
fn test_rows(tok: &embedlab::data::Tok, labels: &[String], seq: usize) -> Vec<TestRow> {
    let text = std::fs::read_to_string(LABELED).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| c[2] == "test")
        .map(|c| {
            let row = embedlab::data::encode_single(&tok.encode(c[0]).unwrap(), seq).unwrap();
            TestRow {
                ids: row.input_ids,
                mask: row.attention_mask,
                gold: labels
                    .iter()
                    .position(|l| l == c[1])
                    .map_or(-100, |i| i as i64),
            }
        })
        .collect()
}

/// embedlab's logits of the test rows: the stage's eval graph over the saved model.
fn embedlab_logits(
    enc: &embedlab::experiment::artifacts::LoadedEncoder,
    rows: &[TestRow],
    seq: usize,
) -> Vec<Vec<f32>> {
    let head = enc.head.as_ref().unwrap();
    let classes = head.labels.len();
    let b = rows.len();
    let tg = embedlab::model::task_graph(
        &enc.spec,
        Head::Task(TaskHead::Classify {
            classes,
            pooling: Pooling::from(head.pooling),
            windows: None,
        }),
        b,
        seq,
        &Mode::Eval,
        embedlab::graph::DType::F32,
        0,
    )
    .unwrap();
    let mut sess = embedlab::train::session(&tg, &Default::default()).unwrap();
    let ids: Vec<i64> = rows.iter().flat_map(|r| r.ids.clone()).collect();
    let mask: Vec<i64> = rows.iter().flat_map(|r| r.mask.clone()).collect();
    let gold: Vec<i64> = rows.iter().map(|r| r.gold).collect();
    let mut feeds = embedlab::runtime::Feeds::new();
    feeds
        .i64("input_ids", &[b, seq], &ids)
        .i64("attention_mask", &[b, seq], &mask)
        .i64("labels", &[b], &gold)
        .params(&enc.params);
    let out = sess.run(&feeds).unwrap();
    let logits = out.f32("logits").unwrap();
    logits.data.chunks(classes).map(<[f32]>::to_vec).collect()
}

fn argmax(v: &[f32]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// Python's onnxruntime runs the exported whole model over the test split: its labels are
/// embedlab's, its accuracy is runs.csv's test_accuracy, its logits within 1e-4 of embedlab's.
fn whole_model_agrees(runs: &Path, run_id: &str, model: &Path) {
    if !crate::external::python_or_skip(
        "the Python onnxruntime check of an exported whole model",
        &["onnxruntime", "numpy"],
    ) {
        return;
    }
    let enc = embedlab::experiment::artifacts::run_encoder(&runs.join(run_id)).unwrap();
    let head = enc.head.as_ref().unwrap();
    let seq = head.seq_len;
    let rows = test_rows(&enc.tok, &head.labels, seq);
    let ours = embedlab_logits(&enc, &rows, seq);
    let input = serde_json::json!({
        "ids": rows.iter().map(|r| r.ids.clone()).collect::<Vec<_>>(),
        "mask": rows.iter().map(|r| r.mask.clone()).collect::<Vec<_>>(),
        "gold": rows.iter().map(|r| r.gold).collect::<Vec<_>>(),
    });
    let input_file = model.with_file_name("test_split.json");
    std::fs::write(&input_file, input.to_string()).unwrap();
    let script = r#"
import json, sys
import numpy as np, onnxruntime as ort
model, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
s = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
feeds = {"input_ids": np.array(d["ids"], np.int64), "attention_mask": np.array(d["mask"], np.int64)}
if "token_type_ids" in [i.name for i in s.get_inputs()]:
    feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
logits, probs = s.run(["logits", "probabilities"], feeds)
pred = logits.argmax(axis=1)
gold = np.array(d["gold"])
known = gold != -100
acc = float((pred[known] == gold[known]).sum()) / float(known.sum())
meta = s.get_modelmeta().custom_metadata_map
print(json.dumps({"logits": logits.tolist(), "pred": pred.tolist(), "accuracy": acc,
    "labels": json.loads(meta["embedlab.labels"]), "task": meta["embedlab.task"],
    "prob_sums": probs.sum(axis=1).tolist(),
    "output_shapes": [o.shape for o in s.get_outputs()]}))
"#;
    let v = crate::external::python_json(script, &[model, &input_file]);
    assert_eq!(v["task"], "classify", "{v}");
    let labels: Vec<String> = serde_json::from_value(v["labels"].clone()).unwrap();
    assert_eq!(&labels, &head.labels);
    assert_eq!(
        v["output_shapes"][2],
        serde_json::json!(["batch", labels.len()]),
        "{v}"
    );
    for s in v["prob_sums"].as_array().unwrap() {
        assert!((s.as_f64().unwrap() - 1.0).abs() < 1e-5, "{v}");
    }
    let theirs: Vec<Vec<f32>> = serde_json::from_value(v["logits"].clone()).unwrap();
    let pred: Vec<usize> = serde_json::from_value(v["pred"].clone()).unwrap();
    let d = max_abs(&theirs, &ours);
    eprintln!("{run_id}: Python onnxruntime vs embedlab eval logits, max abs diff {d:e}");
    assert!(d <= LOGITS_MAX_ABS, "{d}");
    let our_pred: Vec<usize> = ours.iter().map(|l| argmax(l)).collect();
    assert_eq!(pred, our_pred);
    // runs.csv's accuracy, to the last digit it prints.
    let acc = v["accuracy"].as_f64().unwrap();
    assert_eq!(acc.to_string(), test_accuracy(runs, run_id), "{run_id}");
}

/// `predict` over the test split (as a TSV with the dataset's columns, and as JSONL) gives
/// runs.csv's test_accuracy exactly, for every transfer mode.
#[test]
fn predict_reproduces_the_test_accuracy() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = run_tiny(tmp.path());
    let text = std::fs::read_to_string(LABELED).unwrap();
    let test: Vec<(String, String)> = text
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| c[2] == "test")
        .map(|c| (c[0].to_string(), c[1].to_string()))
        .collect();
    let tsv = tmp.path().join("test.tsv");
    let mut body = "split\ttext\n".to_string();
    for (t, _) in &test {
        body += &format!("test\t{t}\n");
    }
    std::fs::write(&tsv, body).unwrap();
    let jsonl = tmp.path().join("test.jsonl");
    let lines: Vec<String> = test
        .iter()
        .map(|(t, _)| serde_json::json!({ "text": t }).to_string())
        .collect();
    std::fs::write(&jsonl, lines.join("\n") + "\n").unwrap();
    for run in ["c001-s1", "c002-s1", "c003-s1", "c003-s2"] {
        for input in [&tsv, &jsonl] {
            let out = tmp.path().join(format!("{run}.csv"));
            let (code, _, err) = embedlab(
                &[
                    "predict",
                    runs.join(run).to_str().unwrap(),
                    "--input",
                    input.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                    "--batch-size",
                    "5",
                ],
                None,
            );
            assert_eq!(code, 0, "{err}");
            let (h, rows) = crate::cli::read_csv(&out);
            assert_eq!(rows.len(), test.len());
            assert_eq!(h[..2], ["text".to_string(), "label".to_string()]);
            assert_eq!(h.len(), 2 + 3, "{h:?}");
            let mut correct = 0usize;
            for (row, (t, gold)) in rows.iter().zip(&test) {
                assert_eq!(&row[0], t);
                let p: f64 = row[2..].iter().map(|x| x.parse::<f64>().unwrap()).sum();
                assert!((p - 1.0).abs() < 1e-5, "{row:?}");
                correct += (&row[1] == gold) as usize;
            }
            let acc = correct as f64 / test.len() as f64;
            assert_eq!(acc.to_string(), test_accuracy(&runs, run), "{run}");
        }
    }
}

/// Chunks of a BIO sequence, conlleval style (a chunk starts at `B-X`, or at `I-X` not
/// continuing a chunk of type X), written here independently of embedlab's metrics.
fn chunks(tags: &[&str]) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, t) in tags.iter().chain(std::iter::once(&"O")).enumerate() {
        let (prefix, kind) = t.split_once('-').unwrap_or((t, ""));
        if prefix == "I" && open.as_ref().is_some_and(|(_, k)| k == kind) {
            continue;
        }
        if let Some((start, k)) = open.take() {
            out.push((start, i, k));
        }
        if prefix == "B" || prefix == "I" {
            open = Some((i, kind.to_string()));
        }
    }
    out
}

/// `predict` on a tagging run: one tag per word of each test sentence, and the span F1 of those
/// tags against the gold tags is runs.csv's test_span_f1 (scratch and fine-tuned).
#[test]
fn predict_on_a_tag_run_reproduces_the_span_f1() {
    let tmp = tempfile::tempdir().unwrap();
    let tags_tsv = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/e2e/tags.tsv");
    let over = tmp.path().join("tag.toml");
    std::fs::write(
        &over,
        format!(
            "seeds = [1]\n[dataset.tagdata]\npath = \"{}\"\nsplit = \"split\"\n[downstream.C]\ntask = \"tag\"\ndata = \"tagdata\"\n[sweep]\n\"downstream.C.transfer\" = [\"scratch\", \"finetune\"]\n",
            tags_tsv.display()
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let (code, _, err) = embedlab(
        &[
            "run",
            TINY,
            over.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let runs = out.join("tiny/runs");
    let text = std::fs::read_to_string(&tags_tsv).unwrap();
    let test: Vec<(String, String)> = text
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect::<Vec<_>>())
        .filter(|c| c[2] == "test")
        .map(|c| (c[0].to_string(), c[1].to_string()))
        .collect();
    let input = tmp.path().join("test.tsv");
    let mut body = "text\n".to_string();
    for (t, _) in &test {
        body += &format!("{t}\n");
    }
    std::fs::write(&input, body).unwrap();
    for run in ["c001-s1", "c002-s1"] {
        let csv = tmp.path().join(format!("{run}.csv"));
        let (code, _, err) = embedlab(
            &[
                "predict",
                runs.join(run).to_str().unwrap(),
                "--input",
                input.to_str().unwrap(),
                "--out",
                csv.to_str().unwrap(),
                "--batch-size",
                "4",
            ],
            None,
        );
        assert_eq!(code, 0, "{err}");
        let (h, rows) = crate::cli::read_csv(&csv);
        assert_eq!(h, ["text", "tags"]);
        assert_eq!(rows.len(), test.len());
        let (mut correct, mut predicted, mut gold_n) = (0usize, 0usize, 0usize);
        for (row, (t, gold)) in rows.iter().zip(&test) {
            assert_eq!(&row[0], t);
            let pred: Vec<&str> = row[1].split(' ').collect();
            let gold: Vec<&str> = gold.split(' ').collect();
            assert_eq!(pred.len(), gold.len(), "one tag per word: {row:?}");
            let (p, g) = (chunks(&pred), chunks(&gold));
            correct += p.iter().filter(|c| g.contains(c)).count();
            predicted += p.len();
            gold_n += g.len();
        }
        let prec = if predicted == 0 {
            0.0
        } else {
            correct as f64 / predicted as f64
        };
        let rec = if gold_n == 0 {
            0.0
        } else {
            correct as f64 / gold_n as f64
        };
        let f1 = if prec + rec == 0.0 {
            0.0
        } else {
            2.0 * prec * rec / (prec + rec)
        };
        let (h, rows) = crate::cli::read_csv(&runs.parent().unwrap().join("runs.csv"));
        let row = rows
            .iter()
            .find(|r| crate::cli::col(&h, r, "run_id") == run)
            .unwrap();
        assert_eq!(
            crate::cli::col(&h, row, "transfer"),
            ["scratch", "finetune"][(run == "c002-s1") as usize]
        );
        let want: f64 = crate::cli::col(&h, row, "test_span_f1").parse().unwrap();
        eprintln!(
            "{run}: span F1 from predict's tags {f1}, runs.csv {want} ({correct} of {predicted} predicted, {gold_n} gold spans)"
        );
        assert!((f1 - want).abs() < 1e-12, "{run}: {f1} vs {want}");
    }
}
