//! End to end, `probe_layers`: a frozen run's per-layer probes (the last layer's repeats the
//! plain frozen run exactly), the random-encoder control, per-layer CKA of fine-tuned runs, and
//! the key's errors.

use crate::cli::{col, embedlab, read_csv};
use crate::score;
use std::path::{Path, PathBuf};

fn tiny() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/e2e/tiny.toml")
}

/// The gold labels of the tiny experiment's `split` (labeled.tsv).
fn gold(split: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/e2e/labeled.tsv");
    score::column(&score::split_rows(&path, split), "label")
}

/// Runs tiny.toml (depth 2) with `overlay` on top, seed 1; returns the runs.csv and stderr.
fn run(overlay: &str) -> (i32, String, Vec<String>, Vec<Vec<String>>) {
    let dir = tempfile::tempdir().unwrap();
    let over = dir.path().join("over.toml");
    std::fs::write(&over, format!("seeds = [1]\n{overlay}")).unwrap();
    let out = dir.path().join("out");
    let (code, err) = embedlab(&[
        "run",
        tiny().to_str().unwrap(),
        over.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    if code != 0 {
        return (code, err, vec![], vec![]);
    }
    let (h, rows) = read_csv(&out.join("tiny/runs.csv"));
    (code, err, h, rows)
}

fn num(h: &[String], r: &[String], name: &str) -> f64 {
    col(h, r, name)
        .parse()
        .unwrap_or_else(|_| panic!("{name} = {:?} is not a number", col(h, r, name)))
}

fn row<'a>(rows: &'a [Vec<String>], h: &[String], transfer: &str) -> &'a [String] {
    rows.iter()
        .find(|r| col(h, r, "transfer") == transfer)
        .unwrap_or_else(|| panic!("no {transfer} row"))
}

#[test]
fn probe_layers_probes_every_layer_and_measures_cka() {
    let (code, err, h0, plain) = run(
        "[downstream.C]\npooling = \"mean\"\n[sweep]\n\"downstream.C.transfer\" = [\"frozen\"]\n",
    );
    assert_eq!(code, 0, "{err}");
    let (code, err, h, rows) = run(
        // Mean pooling: with [CLS] pooling layer 0's features are one constant vector (the
        // [CLS] embedding at position 0), whose CKA is undefined (NaN).
        "[downstream.C]\nprobe_layers = \"all\"\npooling = \"mean\"\n\
         [sweep]\n\"downstream.C.transfer\" = [\"frozen\", \"finetune\", \"lp-ft\"]\n",
    );
    assert_eq!(code, 0, "{err}");
    let frozen = row(&rows, &h, "frozen");
    // The last layer's probe is the plain frozen run: same features, init, schedule and order.
    let plain_acc = num(&h0, row(&plain, &h0, "frozen"), "test_accuracy");
    assert_eq!(num(&h, frozen, "layer2_test_accuracy"), plain_acc);
    assert_eq!(num(&h, frozen, "test_accuracy"), plain_acc);
    assert_eq!(
        num(&h, frozen, "layer2_test_macro_f1"),
        num(&h0, row(&plain, &h0, "frozen"), "test_macro_f1")
    );
    // Mean-pooled, every layer's features tell the classes apart better than any constant
    // answer (measured on test: 0.50, 0.50, 0.58 against 1/3, macro-F1 0.40, 0.40, 0.47 against
    // 1/6; on dev 0.67, 0.58, 0.50 against 1/3).
    let (test_acc, test_f1) = score::constant_classifier(&gold("test"));
    let (dev_acc, _) = score::constant_classifier(&gold("dev"));
    for k in 0..=2 {
        let v = |m: &str| num(&h, frozen, &format!("layer{k}_{m}"));
        assert!(
            v("test_accuracy") > test_acc,
            "layer{k}: {}",
            v("test_accuracy")
        );
        assert!(
            v("test_macro_f1") > test_f1,
            "layer{k}: {}",
            v("test_macro_f1")
        );
        assert!(
            v("dev_accuracy") > dev_acc,
            "layer{k} dev: {}",
            v("dev_accuracy")
        );
    }
    assert!(!h0.iter().any(|c| c.starts_with("layer0_")), "{h0:?}");
    for t in ["finetune", "lp-ft"] {
        let r = row(&rows, &h, t);
        for k in 0..=2 {
            let v = num(&h, r, &format!("layer{k}_cka"));
            assert!((0.0..=1.0 + 1e-9).contains(&v), "{t} layer{k}_cka = {v}");
        }
        // Fine-tuning moved the encoder, so some layer is no longer identical.
        assert!(
            (0..=2).any(|k| num(&h, r, &format!("layer{k}_cka")) < 1.0 - 1e-6),
            "{t}: every layer's CKA is 1"
        );
    }
    assert_eq!(col(&h, frozen, "layer1_cka"), "");
}

#[test]
fn from_none_is_the_random_encoder_control() {
    // A sweep over `from` with "none": frozen probes the random encoder, finetune becomes scratch.
    let (code, err, h, rows) = run("[downstream.C]\nprobe_layers = [0, 2]\n\
         [sweep]\n\"downstream.C.from\" = [\"A\", \"none\"]\n\
         \"downstream.C.transfer\" = [\"frozen\", \"finetune\"]\n");
    assert_eq!(code, 0, "{err}");
    assert_eq!(rows.len(), 4, "{rows:?}");
    let random = rows
        .iter()
        .find(|r| col(&h, r, "transfer") == "frozen" && col(&h, r, "pretrain") == "none")
        .expect("a random frozen row");
    assert_eq!(num(&h, random, "encoder_checksum_unchanged"), 1.0);
    assert_eq!(col(&h, random, "transferred_tensors"), "");
    // With [CLS] pooling layer 0's features are one vector for every text (the [CLS] embedding
    // at position 0), so its probe answers one class: exactly that class's share of the test
    // split, 4 of 12 for each class here.
    let test = gold("test");
    let shares: Vec<f64> = test
        .iter()
        .map(|c| test.iter().filter(|g| *g == c).count() as f64 / test.len() as f64)
        .collect();
    let layer0 = num(&h, random, "layer0_test_accuracy");
    assert!(
        shares.contains(&layer0),
        "layer0 {layer0}, class shares {shares:?}"
    );
    // The last layer's probe is the stage's own head.
    assert_eq!(
        num(&h, random, "layer2_test_accuracy"),
        num(&h, random, "test_accuracy")
    );
    assert!(!h.iter().any(|c| c == "layer1_test_accuracy"));
    let scratch = row(&rows, &h, "scratch");
    let cka = num(&h, scratch, "layer2_cka");
    // Training from scratch moved the top layer away from its random start.
    assert!((0.0..1.0 - 1e-6).contains(&cka), "scratch layer2_cka {cka}");
}

#[test]
fn probe_layers_errors_name_the_key() {
    for (overlay, wanted) in [
        (
            "[downstream.C]\nprobe_layers = [3]\n",
            "downstream.C.probe_layers: layer 3 exceeds encoder.depth = 2",
        ),
        (
            "[downstream.C]\nprobe_layers = \"all\"\nlayers = 1\n",
            "downstream.C.probe_layers: is read with transfer = \"frozen\" only with layers = \"all\"",
        ),
        (
            "[downstream.C]\nprobe_layers = \"some\"\n",
            "\"all\" or a list of layer indices",
        ),
    ] {
        let (code, err, _, _) = run(overlay);
        assert_eq!(code, 2, "{overlay}: {err}");
        assert!(err.contains(wanted), "{overlay}: {err}");
    }
}
