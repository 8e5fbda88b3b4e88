//! End to end, the bag-of-words baseline (`baseline = true`): a stage of its own in the plan,
//! computed once for every seed, its rows in runs.csv beside the model's (`transfer = bow`, the
//! same metric columns), summary.csv and report.md; for classify, pair and tag tasks.
use crate::cli::{col, embedlab, read_csv};
use embedlab::baseline::{BowTask, fit_and_score};
use embedlab::config::DatasetConfig;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/e2e")
        .join(name)
}

/// Runs the tiny experiment (2 seeds, scratch and finetune) with downstream C on `file` as
/// `task` and `baseline = true`; returns the results folder and its stderr.
fn run_with_baseline(task: &str, file: &str, dir: &Path) -> (PathBuf, String) {
    let over = dir.join("baseline.toml");
    let text = format!(
        r#"[dataset.{task}data]
path = "{path}"
split = "split"
{pair}
[downstream.C]
task = "{task}"
data = "{task}data"
baseline = true
[sweep]
"downstream.C.transfer" = ["scratch", "finetune"]
"#,
        path = fixture(file).display(),
        pair = pair_column(task),
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
    assert_eq!(code, 0, "{task}: {err}");
    (out, err)
}

/// The dataset key naming the second text of a pair task.
fn pair_column(task: &str) -> &'static str {
    if task == "pair" {
        "text_pair = \"text_pair\""
    } else {
        ""
    }
}

/// The library's figures on the fixture's splits, read as a run reads them.
fn library_figures(task: &str, bow: BowTask, file: &str) -> embedlab::baseline::BowMetrics {
    let cfg: DatasetConfig = toml::from_str(&format!(
        "path = \"{}\"\nsplit = \"split\"\n{}\n",
        fixture(file).display(),
        pair_column(task)
    ))
    .unwrap();
    let (ds, _) = embedlab::data::load_dataset(&cfg, Path::new("")).unwrap();
    let labels = if task == "tag" {
        ds.tag_labels()
    } else {
        ds.labels.clone()
    };
    fit_and_score(&ds.train, &ds.dev, &ds.test, bow, &labels).unwrap()
}

#[test]
fn baseline_cell_beside_the_model_cells_for_classify() {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = run_with_baseline("classify", "labeled.tsv", dir.path());
    // tokenizer, pretraining, 4 model downstream stages, one baseline stage for both seeds.
    assert!(
        err.contains("6 ok, 0 failed, 0 already complete; stages: 7 run, 0 reused"),
        "{err}"
    );
    let (h, rows) = read_csv(&out.join("tiny/runs.csv"));
    let bow: Vec<&Vec<String>> = rows
        .iter()
        .filter(|r| col(&h, r, "transfer") == "bow")
        .collect();
    assert_eq!(bow.len(), 2, "one row per seed");
    let lib = library_figures("classify", BowTask::Classify, "labeled.tsv");
    for r in &bow {
        assert_eq!(col(&h, r, "status"), "ok");
        assert_eq!(col(&h, r, "cell_id"), "c003");
        assert_eq!(col(&h, r, "downstream"), "C");
        assert_eq!(col(&h, r, "task"), "classify");
        assert_eq!(col(&h, r, "pretrain"), "none");
        // The sweep axis of the stage's transfer mode names the baseline; the encoder settings
        // do not apply to it.
        assert_eq!(col(&h, r, "downstream.C.transfer"), "bow");
        assert_eq!(col(&h, r, "depth"), "");
        let num = |c: &str| col(&h, r, c).parse::<f64>().unwrap();
        // The stage's figures are the library's on the same splits (the library is held to
        // scikit-learn's in it::baseline).
        assert_eq!(num("test_accuracy"), lib.test_accuracy);
        assert_eq!(num("test_macro_f1"), lib.test_macro_f1);
        assert_eq!(num("dev_accuracy"), lib.dev_accuracy);
        assert_eq!(Some(num("bow_c")), lib.c);
        // One stage, no tokenizer: the same key in both rows.
        assert_eq!(col(&h, r, "stage_keys"), col(&h, bow[0], "stage_keys"));
        assert_eq!(col(&h, r, "stage_keys").split(' ').count(), 1);
    }

    // summary.csv: the baseline cell with n = 2 and an interval of 0.
    let (sh, srows) = read_csv(&out.join("tiny/summary.csv"));
    let s = srows
        .iter()
        .find(|r| col(&sh, r, "transfer") == "bow")
        .expect("a summary row for the baseline");
    assert_eq!(col(&sh, s, "n"), "2");
    assert_eq!(col(&sh, s, "test_accuracy_ci95"), "0.000000");

    let md = std::fs::read_to_string(out.join("tiny/report.md")).unwrap();
    assert!(md.contains("| c003 | bow | none | bow | 2 |"), "{md}");
    assert!(md.contains("## Against the bag-of-words baseline"), "{md}");
    assert!(
        md.contains("| test_accuracy | c001 | downstream.C.transfer = scratch |"),
        "{md}"
    );
    assert!(
        md.contains("| test_accuracy | c002 | downstream.C.transfer = finetune |"),
        "{md}"
    );
    assert!(md.contains("one fit, repeated in one row per seed"), "{md}");
    assert!(!md.contains("bow − scratch"), "{md}");

    // A rerun with a third seed computes only the new model runs: the baseline stage is reused.
    let over = dir.path().join("baseline.toml");
    let (code, err) = embedlab(&[
        "run",
        fixture("tiny.toml").to_str().unwrap(),
        over.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--set",
        "seeds=[1, 2, 3]",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("3 ok, 0 failed, 6 already complete; stages: 2 run, 3 reused"),
        "{err}"
    );
}

#[test]
fn baseline_of_pair_and_tag_tasks() {
    for (task, file, bow_task) in [
        ("pair", "pairs.tsv", BowTask::Pair),
        ("tag", "tags.tsv", BowTask::Tag),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (out, err) = run_with_baseline(task, file, dir.path());
        assert!(err.contains("6 ok, 0 failed"), "{task}: {err}");
        let (h, rows) = read_csv(&out.join("tiny/runs.csv"));
        let lib = library_figures(task, bow_task, file);
        let bow: Vec<&Vec<String>> = rows
            .iter()
            .filter(|r| col(&h, r, "transfer") == "bow")
            .collect();
        assert_eq!(bow.len(), 2, "{task}");
        for r in bow {
            assert_eq!(col(&h, r, "task"), task);
            let num = |c: &str| col(&h, r, c).parse::<f64>().unwrap();
            assert_eq!(num("test_accuracy"), lib.test_accuracy, "{task}");
            match task {
                // Side-marked words: a:horse and b:horse are two features.
                "pair" => assert_eq!(num("bow_features"), lib.features as f64),
                // The model's tagging runs report span F1; so does the baseline.
                _ => assert_eq!(Some(num("test_span_f1")), lib.test_span_f1, "{task}"),
            }
        }
        if task == "tag" {
            // Model rows carry the same column.
            assert!(
                rows.iter()
                    .filter(|r| col(&h, r, "transfer") != "bow")
                    .all(|r| !col(&h, r, "test_span_f1").is_empty())
            );
        }
    }
}
