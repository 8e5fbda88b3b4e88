//! The bag-of-words baseline against scikit-learn: on the shipped supersense data (the first
//! 2000 train rows, as `filter = { max_train = 2000 }` in experiments/quickstart.toml keeps),
//! our TF-IDF + logistic regression must score within 1 point of test accuracy of scikit-learn's
//! `TfidfVectorizer` + `LogisticRegression` with the same C, on the same splits
//! (tests/reference/bow_sklearn.py, run with python3), from the same number of features.
//!
//! Skips (one visible `SKIPPED` line) when python3 cannot import scikit-learn, unless
//! `EMBEDLAB_REQUIRE_EXTERNAL=1`, which turns the skip into a failure (CI sets it; `bash
//! scripts/test` installs scikit-learn).
use embedlab::baseline::{BowConfig, BowTask, fit_and_score_with};
use embedlab::data::{Columns, Dataset, Example, Split, read_table};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const MAX_TRAIN: usize = 2000;
/// Test accuracy may differ from scikit-learn's by at most this (1 point).
const MAX_ACCURACY_GAP: f64 = 0.01;
/// scikit-learn's solver settings: enough iterations, and a tolerance tight enough, that both
/// solvers stop near the same minimum.
const SKLEARN_MAX_ITER: u64 = 1000;
const SKLEARN_TOL: f64 = 1e-6;

fn supersense() -> Dataset {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/wordnet/supersense.tsv.gz");
    let columns = Columns {
        text: "text",
        text_pair: None,
        label: "label",
        split: Some("split"),
    };
    let mut splits: [Vec<Example>; 3] = Default::default();
    for r in read_table(&path, &columns).unwrap() {
        splits[r.split.unwrap_or(Split::Train) as usize].push(r.example);
    }
    let [mut train, dev, test] = splits;
    train.truncate(MAX_TRAIN);
    let ds = Dataset::from_splits(train, dev, test);
    // Both sides score only labels seen in train (ours leaves the others out; sklearn would
    // count them wrong), so they are dropped here.
    let seen = |e: &Example| ds.label_id(&e.label).is_some();
    Dataset {
        dev: ds.dev.iter().filter(|e| seen(e)).cloned().collect(),
        test: ds.test.iter().filter(|e| seen(e)).cloned().collect(),
        ..ds.clone()
    }
}

fn rows(examples: &[Example]) -> serde_json::Value {
    examples
        .iter()
        .map(|e| serde_json::json!([e.text, e.label]))
        .collect()
}

#[test]
fn bag_of_words_matches_sklearn_on_supersense() {
    if !crate::external::python_or_skip(
        "the bag-of-words comparison with scikit-learn",
        &["sklearn"],
    ) {
        return;
    }
    let ds = supersense();
    let cfg = BowConfig::default();
    let start = Instant::now();
    let ours = fit_and_score_with(
        &cfg,
        &ds.train,
        &ds.dev,
        &ds.test,
        BowTask::Classify,
        &ds.labels,
    )
    .unwrap();
    let seconds = start.elapsed().as_secs_f64();
    let c = ours.c.unwrap();
    eprintln!(
        "ours: train {} dev {} test {} classes {} features {}; C = {c}: dev {:.4} test {:.4} macro-F1 {:.4}; {seconds:.1} s for {} fits",
        ds.train.len(),
        ds.dev.len(),
        ds.test.len(),
        ds.labels.len(),
        ours.features,
        ours.dev_accuracy,
        ours.test_accuracy,
        ours.test_macro_f1,
        ours.grid.len(),
    );
    for s in &ours.grid {
        eprintln!("ours: C = {:>6}: dev {:.4}", s.c, s.dev_accuracy);
    }
    // Far above chance on supersense (45 classes in these 2000 train rows).
    assert!(ours.test_accuracy > 0.3, "{ours:?}");

    let dir = tempfile::tempdir().unwrap();
    let spec = dir.path().join("splits.json");
    let body = serde_json::json!({
        "train": rows(&ds.train),
        "dev": rows(&ds.dev),
        "test": rows(&ds.test),
        "cs": cfg.logistic.grid,
        "max_iter": SKLEARN_MAX_ITER,
        "tol": SKLEARN_TOL,
    });
    std::fs::write(&spec, serde_json::to_vec(&body).unwrap()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/bow_sklearn.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(&spec)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} failed: {}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let sk: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!(
        "scikit-learn {}: features {}, chosen C = {}",
        sk["sklearn"], sk["features"], sk["chosen_c"]
    );
    for r in sk["per_c"].as_array().unwrap() {
        eprintln!(
            "scikit-learn: C = {:>6}: dev {:.4} test {:.4} ({} iterations, {:.1} s)",
            r["c"].as_f64().unwrap(),
            r["dev_accuracy"].as_f64().unwrap(),
            r["test_accuracy"].as_f64().unwrap(),
            r["n_iter"],
            r["seconds"].as_f64().unwrap(),
        );
    }
    assert_eq!(
        sk["features"].as_u64().unwrap() as usize,
        ours.features,
        "the vocabularies differ in size: the tokenizations disagree"
    );
    let theirs = sk["per_c"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["c"].as_f64() == Some(c))
        .unwrap()["test_accuracy"]
        .as_f64()
        .unwrap();
    eprintln!(
        "test accuracy at C = {c}: ours {:.4}, scikit-learn {theirs:.4}",
        ours.test_accuracy
    );
    assert!(
        (ours.test_accuracy - theirs).abs() <= MAX_ACCURACY_GAP,
        "test accuracy at C = {c}: ours {:.4}, scikit-learn {theirs:.4} (more than {MAX_ACCURACY_GAP} apart)",
        ours.test_accuracy
    );
}
