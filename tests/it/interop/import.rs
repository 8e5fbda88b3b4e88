//! `task = "import"` in an experiment, on a tiny BERT-layout directory written here (random
//! weights under `bert.`-prefixed names, LayerNorm `gamma`/`beta` in the embeddings, a pooler,
//! and a WordPiece tokenizer.json whose special tokens sit at BERT-like ids): the import feeds
//! frozen and fine-tuned runs with its own tokenizer, the scratch run uses the experiment's, the
//! plan names a conflicting `[encoder]` value, and a run that started from the import exports
//! the imported encoder.
use std::collections::BTreeMap;
use std::path::Path;

const D: usize = 16;
const FFN: usize = 32;
const LAYERS: usize = 2;
const POSITIONS: usize = 32;

use crate::cli::embedlab_io as embedlab;

/// The vocabulary: `[PAD]` first, letters, the other specials at 27.., then `##` letters.
fn vocab() -> Vec<String> {
    let letters: Vec<String> = ('a'..='z').map(String::from).collect();
    let mut v = vec!["[PAD]".to_string()];
    v.extend(letters.iter().cloned());
    v.extend(["[UNK]", "[CLS]", "[SEP]", "[MASK]"].map(String::from));
    v.extend(letters.iter().map(|l| format!("##{l}")));
    v
}

fn write_bert_dir(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let vocab = vocab();
    let config = serde_json::json!({
        "model_type": "bert", "hidden_size": D, "num_hidden_layers": LAYERS, "num_attention_heads": 2,
        "intermediate_size": FFN, "max_position_embeddings": POSITIONS, "vocab_size": vocab.len(),
        "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu"
    });
    std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
    let ids: serde_json::Map<String, serde_json::Value> = vocab
        .iter()
        .enumerate()
        .map(|(i, t)| (t.clone(), i.into()))
        .collect();
    let added: Vec<serde_json::Value> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        .iter()
        .map(|t| serde_json::json!({"id": ids[*t], "content": t, "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}))
        .collect();
    let tokenizer = serde_json::json!({
        "version": "1.0",
        "truncation": {"max_length": 8, "strategy": "LongestFirst", "stride": 0, "direction": "Right"},
        "padding": {"strategy": {"Fixed": 8}, "direction": "Right", "pad_to_multiple_of": null, "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", ids["[SEP]"]], "cls": ["[CLS]", ids["[CLS]"]]},
        "decoder": null,
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": ids}
    });
    std::fs::write(dir.join("tokenizer.json"), tokenizer.to_string()).unwrap();

    // Random weights (a fixed LCG), torch layouts: Linear weights are [out, in].
    let mut state = 12345u64;
    let mut rand = |n: usize, scale: f32| -> Vec<f32> {
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * scale
            })
            .collect()
    };
    let mut t: BTreeMap<String, (Vec<usize>, Vec<f32>)> = BTreeMap::new();
    let mut put = |name: &str, shape: &[usize], v: Vec<f32>| {
        t.insert(format!("bert.{name}"), (shape.to_vec(), v));
    };
    put(
        "embeddings.word_embeddings.weight",
        &[vocab.len(), D],
        rand(vocab.len() * D, 0.2),
    );
    put(
        "embeddings.position_embeddings.weight",
        &[POSITIONS, D],
        rand(POSITIONS * D, 0.2),
    );
    put(
        "embeddings.token_type_embeddings.weight",
        &[2, D],
        rand(2 * D, 0.2),
    );
    put("embeddings.LayerNorm.gamma", &[D], vec![1.0; D]);
    put("embeddings.LayerNorm.beta", &[D], vec![0.0; D]);
    for l in 0..LAYERS {
        let p = format!("encoder.layer.{l}.");
        for (name, o, i) in [
            ("attention.self.query", D, D),
            ("attention.self.key", D, D),
            ("attention.self.value", D, D),
            ("attention.output.dense", D, D),
            ("intermediate.dense", FFN, D),
            ("output.dense", D, FFN),
        ] {
            put(&format!("{p}{name}.weight"), &[o, i], rand(o * i, 0.5));
            put(&format!("{p}{name}.bias"), &[o], rand(o, 0.1));
        }
        for name in ["attention.output.LayerNorm", "output.LayerNorm"] {
            put(&format!("{p}{name}.weight"), &[D], vec![1.0; D]);
            put(&format!("{p}{name}.bias"), &[D], vec![0.0; D]);
        }
    }
    put("pooler.dense.weight", &[D, D], rand(D * D, 0.5));
    put("pooler.dense.bias", &[D], rand(D, 0.1));
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = t
        .into_iter()
        .map(|(n, (s, v))| (n, s, v.iter().flat_map(|x| x.to_le_bytes()).collect()))
        .collect();
    let views: Vec<(String, safetensors::tensor::TensorView)> = bytes
        .iter()
        .map(|(n, s, b)| {
            (
                n.clone(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, s.clone(), b)
                    .unwrap(),
            )
        })
        .collect();
    std::fs::write(
        dir.join("model.safetensors"),
        safetensors::serialize(views, None).unwrap(),
    )
    .unwrap();
}

fn experiment(dir: &Path, bert: &Path) -> std::path::PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/e2e");
    let toml = format!(
        r#"name = "tiny_import"
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
[pretrain.bert]
task = "import"
path = "{bert}"
[downstream.C]
data = "words"
from = "bert"
epochs = 2
batch_size = 8
seq_len = 16
pooling = "mean"
optimizer = {{ lr = 3e-3 }}
[sweep]
"downstream.C.transfer" = ["scratch", "frozen", "finetune"]
"#,
        corpus = fixtures.join("corpus.txt").display(),
        labeled = fixtures.join("labeled.tsv").display(),
        bert = bert.display()
    );
    let file = dir.join("tiny_import.toml");
    std::fs::write(&file, toml).unwrap();
    file
}

#[test]
fn an_imported_model_is_a_pretraining_stage() {
    let tmp = tempfile::tempdir().unwrap();
    let bert = tmp.path().join("bert");
    write_bert_dir(&bert);
    let file = experiment(tmp.path(), &bert);
    let file_s = file.to_str().unwrap();

    // The plan: the import replaces the tokenizer for the cells that use it.
    let (code, plan, err) = embedlab(&["plan", file_s], None);
    assert_eq!(code, 0, "{err}");
    assert!(plan.contains("pretrain.bert"), "{plan}");

    // A conflicting [encoder] is named with where it was set and what the model has.
    let (code, _, err) = embedlab(&["plan", file_s, "--set", "encoder.depth=3"], None);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--set encoder.depth=3: encoder.depth: 3, but pretrain.bert imports a model with num_hidden_layers = 2"), "{err}");
    assert!(
        err.contains("hint: stages that start from an import take its architecture"),
        "{err}"
    );

    let results = tmp.path().join("results");
    let (code, _, err) = embedlab(&["run", file_s, "--out", results.to_str().unwrap()], None);
    assert_eq!(code, 0, "{err}");
    let mut r = csv::Reader::from_path(results.join("tiny_import/runs.csv")).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let col = |row: &csv::StringRecord, name: &str| {
        row.get(h.iter().position(|x| x == name).unwrap())
            .unwrap()
            .to_string()
    };
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(col(row, "status"), "ok", "{row:?}");
        let keys = col(row, "stage_keys");
        // tokenizer + downstream (scratch), or import + downstream.
        assert_eq!(keys.split_whitespace().count(), 2, "{keys}");
        match col(row, "transfer").as_str() {
            "frozen" => assert_eq!(col(row, "encoder_checksum_unchanged"), "1"),
            // 5 embedding tensors, 12 per layer.
            "finetune" => assert_eq!(col(row, "transferred_tensors"), "29"),
            _ => {}
        }
    }

    // A run that started from the import exports the imported encoder: the same vectors as
    // embedding with the model directory itself.
    let run = results.join("tiny_import/runs/c002-s1");
    let model = tmp.path().join("export/model.onnx");
    let (code, _, err) = embedlab(
        &[
            "export",
            run.to_str().unwrap(),
            "--out",
            model.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let input = "a word for horse\nsheep\n";
    let (code, from_model, err) = embedlab(
        &[
            "embed",
            "--model",
            model.to_str().unwrap(),
            "--format",
            "jsonl",
        ],
        Some(input),
    );
    assert_eq!(code, 0, "{err}");
    let (code, from_dir, err) = embedlab(
        &[
            "embed",
            "--model",
            bert.to_str().unwrap(),
            "--format",
            "jsonl",
        ],
        Some(input),
    );
    assert_eq!(code, 0, "{err}");
    let parse = |s: &str| -> Vec<Vec<f32>> {
        s.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    let (a, b) = (parse(&from_model), parse(&from_dir));
    assert_eq!(a.len(), 2);
    let diff = a
        .iter()
        .zip(&b)
        .flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
        .fold(0f32, f32::max);
    assert!(diff <= 1e-6, "{diff}");
}

/// `embedlab graph` builds a stage after an import with the imported architecture and
/// vocabulary: the bytes equal those the fine-tuned stage trained (`EMBEDLAB_DUMP_GRAPHS`),
/// whether the import is read from the results folder or imported afresh by the command.
#[test]
fn graph_after_an_import_writes_what_the_stage_trains() {
    let tmp = tempfile::tempdir().unwrap();
    let bert = tmp.path().join("bert");
    write_bert_dir(&bert);
    let file = experiment(tmp.path(), &bert);
    let only_finetune = tmp.path().join("finetune.toml");
    std::fs::write(
        &only_finetune,
        "[sweep]\n\"downstream.C.transfer\" = [\"finetune\"]\n",
    )
    .unwrap();
    let (out, dump) = (tmp.path().join("out"), tmp.path().join("dump"));
    let status = crate::cli::command()
        .args([file.as_os_str(), only_finetune.as_os_str()].iter().fold(
            vec![std::ffi::OsString::from("run")],
            |mut v, a| {
                v.push(a.into());
                v
            },
        ))
        .arg("--out")
        .arg(&out)
        .env("EMBEDLAB_DUMP_GRAPHS", &dump)
        .output()
        .unwrap();
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    for (i, results) in [out.clone(), tmp.path().join("none")].iter().enumerate() {
        let written = tmp.path().join(format!("graphs{i}"));
        let (code, _, err) = embedlab(
            &[
                "graph",
                file.to_str().unwrap(),
                only_finetune.to_str().unwrap(),
                "--stage",
                "downstream.C",
                "--out",
                written.to_str().unwrap(),
                "--results",
                results.to_str().unwrap(),
            ],
            None,
        );
        assert_eq!(code, 0, "{err}");
        for role in ["train_step", "eval"] {
            let name = format!("downstream_C.{role}.onnx");
            let trained = std::fs::read(dump.join(&name)).unwrap();
            let drawn = std::fs::read(written.join(&name)).unwrap();
            assert!(trained == drawn, "{name} differs ({results:?})");
        }
    }
}
