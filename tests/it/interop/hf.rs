//! `export --format hf`: a fine-tuned tiny run's model as a Hugging Face directory is loaded by
//! an independent float64 numpy BERT (tests/reference/hf_reference.py, which tokenizes with the
//! `tokenizers` pip package from the directory's own files) and gives the ids the run saw and
//! embedlab's logits within 1e-4, both as a sentence-transformers classifier (classify) and as a
//! `BertForTokenClassification` (tag); embedlab's own import of the directory gives back the
//! run's encoder parameters bit for bit, and exporting that import again writes the same bytes.
//! Encoders BERT cannot express are refused, naming the setting.
use crate::cli::embedlab_io as embedlab;
use embedlab::experiment::artifacts::{LoadedEncoder, run_encoder};
use embedlab::interop::{LOGITS, POOLED};
use std::path::{Path, PathBuf};

const TINY: &str = "tests/fixtures/e2e/tiny.toml";
const LOGITS_MAX_ABS: f64 = 1e-4;
/// The downstream sequence length of these runs: shorter than the encoder's 16 positions, so
/// the exported tokenizer must truncate to the run's length, not the table's.
const SEQ_LEN: usize = 12;
/// A text longer than the sequence length, so that truncation is exercised.
const LONG: &str =
    "a word for horse or sheep in the land and a word for fig or cedar in the land of the camel";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/e2e")
        .join(name)
}

/// The tiny experiment (seed 1) with `sets`; returns its runs directory.
fn run_tiny(out: &Path, sets: &[&str]) -> PathBuf {
    let mut args = vec![
        "run".to_string(),
        TINY.to_string(),
        "--out".to_string(),
        out.display().to_string(),
        "--set".to_string(),
        "seeds=[1]".to_string(),
    ];
    for s in sets {
        args.extend(["--set".to_string(), s.to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = embedlab(&args, None);
    assert_eq!(code, 0, "{err}");
    out.join("tiny/runs")
}

fn export_hf(source: &Path, out: &Path, head: bool) -> (i32, String) {
    let mut args = vec![
        "export",
        source.to_str().unwrap(),
        "--format",
        "hf",
        "--out",
        out.to_str().unwrap(),
    ];
    if head {
        args.push("--head");
    }
    let (code, _, err) = embedlab(&args, None);
    (code, err)
}

fn runs_csv_value(runs: &Path, run_id: &str, column: &str) -> String {
    let (h, rows) = crate::cli::read_csv(&runs.parent().unwrap().join("runs.csv"));
    let row = rows
        .iter()
        .find(|r| crate::cli::col(&h, r, "run_id") == run_id)
        .unwrap();
    crate::cli::col(&h, row, column).to_string()
}

/// Whether Python can run the reference (numpy and the `tokenizers` package); if not, the
/// check is skipped on a developer's machine and fails in CI.
fn reference_ready() -> bool {
    crate::external::python_or_skip(
        "the independent numpy BERT check of an export --format hf directory",
        &["numpy", "tokenizers"],
    )
}

/// Runs tests/reference/hf_reference.py on `dir` with `input` (its JSON input).
fn reference(dir: &Path, input: &serde_json::Value) -> serde_json::Value {
    let file = dir.with_extension("input.json");
    std::fs::write(&file, input.to_string()).unwrap();
    crate::external::python_json(
        include_str!("../../reference/hf_reference.py"),
        &[dir, &file],
    )
}

/// One input row as the downstream stage encodes it (padded to `SEQ_LEN`).
struct Row {
    ids: Vec<i64>,
    mask: Vec<i64>,
}

impl Row {
    fn real(&self) -> Vec<i64> {
        let n = self.mask.iter().filter(|&&m| m == 1).count();
        self.ids[..n].to_vec()
    }
}

/// embedlab's logits of `rows`: the run's whole model exported to ONNX (`export --head`), run in
/// embedlab's runtime. `[rows][classes]` for a sequence head, `[rows][positions × classes]` for
/// tagging.
fn embedlab_logits(enc: &LoadedEncoder, rows: &[Row]) -> Vec<Vec<f32>> {
    let model = enc.export_with_head().unwrap();
    assert!(model.dynamic_sequence);
    let mut s =
        embedlab::runtime::Session::from_bytes("whole model", &model.bytes, &Default::default())
            .unwrap();
    let b = rows.len();
    let ids: Vec<i64> = rows.iter().flat_map(|r| r.ids.clone()).collect();
    let mask: Vec<i64> = rows.iter().flat_map(|r| r.mask.clone()).collect();
    let mut feeds = embedlab::runtime::Feeds::new();
    feeds
        .i64("input_ids", &[b, SEQ_LEN], &ids)
        .i64("attention_mask", &[b, SEQ_LEN], &mask);
    let out = s.run(&feeds).unwrap();
    let _ = out.f32(POOLED).unwrap();
    let logits = out.f32(LOGITS).unwrap();
    logits
        .data
        .chunks(logits.data.len() / b)
        .map(<[f32]>::to_vec)
        .collect()
}

fn argmax(v: &[f64]) -> usize {
    let mut best = 0;
    for (i, x) in v.iter().enumerate() {
        if *x > v[best] {
            best = i;
        }
    }
    best
}

/// The run's encoder parameters come back bit for bit from embedlab's import of `hf`, and the
/// import exported again is the same directory (weights and tokenizer byte for byte).
fn import_round_trips(enc: &LoadedEncoder, hf: &Path, head_tensors: &[&str]) {
    let imported = embedlab::interop::import_dir(hf, usize::MAX).unwrap();
    assert_eq!(imported.spec, enc.spec);
    let mut unused = imported.unused.clone();
    unused.sort();
    assert_eq!(unused, head_tensors, "tensors the import did not use");
    assert!(
        imported.vocab.is_identity(),
        "the exported vocabulary has our ids"
    );
    let mut compared = 0;
    for p in imported.params.iter() {
        let ours = enc.params.get(p.name).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(p.data),
            bits(ours),
            "{} differs after the round trip",
            p.name
        );
        compared += 1;
    }
    let encoder_params = enc
        .params
        .names()
        .filter(|n| !n.starts_with("head."))
        .count();
    assert_eq!(compared, encoder_params);
    let again = hf.with_extension("again");
    let (code, err) = export_hf(hf, &again, false);
    assert_eq!(code, 0, "{err}");
    let model = |d: &Path, prefixed: bool| -> Vec<(String, Vec<u8>)> {
        let bytes = std::fs::read(d.join("model.safetensors")).unwrap();
        let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let mut t: Vec<(String, Vec<u8>)> = st
            .tensors()
            .into_iter()
            .filter(|(n, _)| !n.starts_with("classifier."))
            .map(|(n, v)| {
                let n = if prefixed {
                    n["bert.".len()..].to_string()
                } else {
                    n
                };
                (n, v.data().to_vec())
            })
            .collect();
        t.sort();
        t
    };
    let tagged = !head_tensors.is_empty();
    assert_eq!(model(&again, false), model(hf, tagged));
    if !tagged {
        assert_eq!(
            std::fs::read(again.join("model.safetensors")).unwrap(),
            std::fs::read(hf.join("model.safetensors")).unwrap()
        );
    }
    assert_eq!(
        std::fs::read_to_string(again.join("tokenizer.json")).unwrap(),
        std::fs::read_to_string(hf.join("tokenizer.json"))
            .unwrap()
            .replace(
                &format!("\"max_length\": {SEQ_LEN}"),
                &format!("\"max_length\": {}", enc.spec.max_len)
            ),
        "an import has no run length: its export truncates to the position table"
    );
}

#[test]
fn hf_export_of_a_finetuned_classifier_is_a_sentence_transformers_model() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = run_tiny(
        tmp.path(),
        &[
            "sweep.\"downstream.C.transfer\"=[\"finetune\"]",
            &format!("downstream.C.seq_len={SEQ_LEN}"),
        ],
    );
    let run = runs.join("c001-s1");
    let hf = tmp.path().join("hf");
    let (code, err) = export_hf(&run, &hf, true);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("BertModel + sentence-transformers") && err.contains("head over 3 labels"),
        "{err}"
    );
    for f in [
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "modules.json",
        "sentence_bert_config.json",
        "1_Pooling/config.json",
        "2_Dense/config.json",
        "2_Dense/model.safetensors",
        "2_Dense/labels.json",
    ] {
        assert!(hf.join(f).is_file(), "no {f}");
    }
    let enc = run_encoder(&run).unwrap();
    let head = enc.head.clone().unwrap();
    assert_eq!(head.seq_len, SEQ_LEN);
    if reference_ready() {
        let text = std::fs::read_to_string(fixture("labeled.tsv")).unwrap();
        let mut test: Vec<(String, String)> = text
            .lines()
            .skip(1)
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .filter(|c| c[2] == "test")
            .map(|c| (c[0].to_string(), c[1].to_string()))
            .collect();
        let n_test = test.len();
        test.push((LONG.to_string(), String::new()));
        let rows: Vec<Row> = test
            .iter()
            .map(|(t, _)| {
                let r =
                    embedlab::data::encode_single(&enc.tok.encode(t).unwrap(), SEQ_LEN).unwrap();
                Row {
                    ids: r.input_ids,
                    mask: r.attention_mask,
                }
            })
            .collect();
        assert_eq!(rows[n_test].real().len(), SEQ_LEN, "the long text is cut");
        let ours = embedlab_logits(&enc, &rows);
        let texts: Vec<&str> = test.iter().map(|(t, _)| t.as_str()).collect();
        let v = reference(&hf, &serde_json::json!({ "texts": texts }));
        assert_eq!(
            v["modules"],
            serde_json::json!(["Transformer", "Pooling", "Dense"])
        );
        assert_eq!(v["max_seq_length"], SEQ_LEN);
        assert_eq!(v["model_max_length"], SEQ_LEN);
        assert_eq!(v["truncation"]["max_length"], SEQ_LEN);
        let pooling = match head.pooling {
            embedlab::config::Pooling::Cls => "pooling_mode_cls_token",
            embedlab::config::Pooling::Mean => "pooling_mode_mean_tokens",
            embedlab::config::Pooling::Last => "pooling_mode_lasttoken",
        };
        assert_eq!(v["pooling"], pooling);
        assert_eq!(v["labels"], serde_json::json!(head.labels));
        assert_eq!(v["dense_labels"], serde_json::json!(head.labels));
        let mut worst = 0.0f64;
        let mut correct = 0usize;
        for (i, (row, r)) in v["rows"].as_array().unwrap().iter().zip(&rows).enumerate() {
            let ids: Vec<i64> = serde_json::from_value(row["ids"].clone()).unwrap();
            assert_eq!(ids, r.real(), "ids of {:?}", test[i].0);
            let theirs: Vec<f64> = serde_json::from_value(row["logits"].clone()).unwrap();
            assert_eq!(theirs.len(), head.labels.len());
            for (a, b) in theirs.iter().zip(&ours[i]) {
                worst = worst.max((a - *b as f64).abs());
            }
            let ours64: Vec<f64> = ours[i].iter().map(|&x| x as f64).collect();
            assert_eq!(argmax(&theirs), argmax(&ours64));
            if i < n_test {
                correct += (head.labels[argmax(&theirs)] == test[i].1) as usize;
            }
        }
        eprintln!(
            "classify: numpy BERT on the hf export vs embedlab's logits, max abs diff {worst:e}"
        );
        assert!(worst <= LOGITS_MAX_ABS, "{worst}");
        let acc = correct as f64 / n_test as f64;
        assert_eq!(
            acc.to_string(),
            runs_csv_value(&runs, "c001-s1", "test_accuracy")
        );
    }
    import_round_trips(&enc, &hf, &[]);
}

#[test]
fn hf_export_of_a_finetuned_tagger_is_a_token_classifier() {
    let tmp = tempfile::tempdir().unwrap();
    let over = tmp.path().join("tag.toml");
    std::fs::write(
        &over,
        format!(
            "[dataset.tagdata]\npath = \"{}\"\nsplit = \"split\"\n[downstream.C]\ntask = \"tag\"\ndata = \"tagdata\"\nseq_len = {SEQ_LEN}\n[sweep]\n\"downstream.C.transfer\" = [\"finetune\"]\n",
            fixture("tags.tsv").display()
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
            "--set",
            "seeds=[1]",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let run = out.join("tiny/runs/c001-s1");
    let hf = tmp.path().join("hf");
    let (code, err) = export_hf(&run, &hf, true);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("BertForTokenClassification"), "{err}");
    assert!(!hf.join("modules.json").exists());
    let enc = run_encoder(&run).unwrap();
    let head = enc.head.clone().unwrap();
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(hf.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["architectures"][0], "BertForTokenClassification");
    for (i, l) in head.labels.iter().enumerate() {
        assert_eq!(config["id2label"][i.to_string()], *l);
        assert_eq!(config["label2id"][l], i);
    }
    if reference_ready() {
        let text = std::fs::read_to_string(fixture("tags.tsv")).unwrap();
        let mut sentences: Vec<String> = text
            .lines()
            .skip(1)
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .filter(|c| c[2] == "test")
            .map(|c| c[0].to_string())
            .collect();
        sentences.push(LONG.to_string());
        let words: Vec<Vec<&str>> = sentences.iter().map(|s| s.split(' ').collect()).collect();
        let rows: Vec<Row> = words
            .iter()
            .map(|w| {
                let (ids, _) = enc.tok.encode_words(w).unwrap();
                let r = embedlab::data::encode_single(&ids, SEQ_LEN).unwrap();
                Row {
                    ids: r.input_ids,
                    mask: r.attention_mask,
                }
            })
            .collect();
        let ours = embedlab_logits(&enc, &rows);
        let v = reference(
            &hf,
            &serde_json::json!({ "texts": sentences, "words": words }),
        );
        assert_eq!(v["architecture"], "BertForTokenClassification");
        assert_eq!(v["labels"], serde_json::json!(head.labels));
        let classes = head.labels.len();
        let mut worst = 0.0f64;
        for (i, (row, r)) in v["rows"].as_array().unwrap().iter().zip(&rows).enumerate() {
            let ids: Vec<i64> = serde_json::from_value(row["ids"].clone()).unwrap();
            assert_eq!(ids, r.real(), "ids of {:?}", sentences[i]);
            let theirs: Vec<Vec<f64>> = serde_json::from_value(row["logits"].clone()).unwrap();
            assert_eq!(theirs.len(), ids.len());
            for (t, tl) in theirs.iter().enumerate() {
                let o: Vec<f64> = ours[i][t * classes..(t + 1) * classes]
                    .iter()
                    .map(|&x| x as f64)
                    .collect();
                for (a, b) in tl.iter().zip(&o) {
                    worst = worst.max((a - b).abs());
                }
                assert_eq!(argmax(tl), argmax(&o), "{:?} token {t}", sentences[i]);
            }
        }
        eprintln!(
            "tag: numpy BERT on the hf export vs embedlab's per-token logits, max abs diff {worst:e}"
        );
        assert!(worst <= LOGITS_MAX_ABS, "{worst}");
    }
    import_round_trips(&enc, &hf, &["classifier.bias", "classifier.weight"]);
}

#[test]
fn hf_export_refuses_encoders_bert_cannot_express() {
    let tmp = tempfile::tempdir().unwrap();
    let runs = run_tiny(
        tmp.path(),
        &[
            "sweep.\"downstream.C.transfer\"=[\"scratch\"]",
            "embeddings.position=\"sinusoidal\"",
        ],
    );
    let hf = tmp.path().join("hf");
    let (code, err) = export_hf(&runs.join("c001-s1"), &hf, true);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("cannot express") && err.contains("embeddings.position = \"sinusoidal\""),
        "{err}"
    );
    assert!(!hf.exists(), "nothing is written");
}
