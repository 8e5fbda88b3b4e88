//! End to end: the real binary runs a tiny experiment (tokenizer → MLM pretraining → downstream
//! classification under scratch, frozen and finetune, 2 seeds) and we read the CSV it wrote;
//! a rerun reuses everything.
use crate::cli::{col, command, embedlab, read_csv};
use crate::score;
use std::path::Path;

#[test]
fn tiny_grid_runs_end_to_end_and_resumes() {
    let out = tempfile::tempdir().unwrap();
    let out_s = out.path().to_str().unwrap();
    let (code, err) = embedlab(&["run", "tests/fixtures/e2e/tiny.toml", "--out", out_s]);
    assert_eq!(code, 0, "{err}");
    // One tokenizer, one pretraining shared by 4 runs, 6 downstream stages.
    assert!(
        err.contains("6 ok, 0 failed, 0 already complete; stages: 8 run, 0 reused"),
        "{err}"
    );

    let runs = out.path().join("tiny/runs.csv");
    let (h, rows) = read_csv(&runs);
    assert_eq!(rows.len(), 6);
    let test = score::split_rows(Path::new("tests/fixtures/e2e/labeled.tsv"), "test");
    let gold = score::column(&test, "label");
    let (constant_acc, constant_f1) = score::constant_classifier(&gold);
    let scratch = tempfile::tempdir().unwrap();
    for r in &rows {
        assert_eq!(col(&h, r, "status"), "ok", "{r:?}");
        let acc: f64 = col(&h, r, "test_accuracy").parse().unwrap();
        let f1: f64 = col(&h, r, "test_macro_f1").parse().unwrap();
        // The metrics are those of the labels the run's model gives the test split.
        let run = out.path().join("tiny/runs").join(col(&h, r, "run_id"));
        let pred = score::predict(&run, &test, &["text"], "label", scratch.path());
        let (pred_acc, pred_f1) = score::accuracy_macro_f1(&gold, &pred);
        assert_eq!(acc, pred_acc, "{r:?}");
        assert!((f1 - pred_f1).abs() < 1e-12, "{r:?}: predict F1 {pred_f1}");
        // In three epochs only fine-tuning the pretrained encoder learns something (scratch
        // and frozen runs answer one class: the constant predictor's 1/3 and 1/6).
        if col(&h, r, "transfer") == "finetune" {
            assert!(
                acc > constant_acc,
                "{r:?}: accuracy {acc} vs {constant_acc}"
            );
            assert!(f1 > constant_f1, "{r:?}: macro-F1 {f1} vs {constant_f1}");
        }
        assert_eq!(col(&h, r, "ort_version"), "1.32.0");
        assert_eq!(col(&h, r, "config_hash").len(), 16);
        match col(&h, r, "transfer") {
            "frozen" => assert_eq!(col(&h, r, "encoder_checksum_unchanged"), "1"),
            "scratch" => assert_eq!(col(&h, r, "pretrain"), "none"),
            "finetune" => assert!(
                col(&h, r, "pretrain_loss")
                    .parse::<f64>()
                    .unwrap()
                    .is_finite()
            ),
            other => panic!("unexpected transfer {other}"),
        }
    }
    let run_ids: Vec<&str> = rows.iter().map(|r| col(&h, r, "run_id")).collect();
    assert_eq!(
        run_ids,
        [
            "c001-s1", "c001-s2", "c002-s1", "c002-s2", "c003-s1", "c003-s2"
        ]
    );
    assert!(out.path().join("tiny/runs/c002-s1/config.toml").exists());

    let (sh, srows) = read_csv(&out.path().join("tiny/summary.csv"));
    assert_eq!(srows.len(), 3);
    for r in &srows {
        assert_eq!(col(&sh, r, "n"), "2");
        // The mean over the cell's two seeds, as runs.csv has them.
        let cell: Vec<f64> = rows
            .iter()
            .filter(|x| col(&h, x, "transfer") == col(&sh, r, "downstream.C.transfer"))
            .map(|x| col(&h, x, "test_accuracy").parse().unwrap())
            .collect();
        assert_eq!(cell.len(), 2, "{r:?}");
        let mean: f64 = col(&sh, r, "test_accuracy_mean").parse().unwrap();
        // summary.csv writes six decimals.
        assert!(
            (mean - (cell[0] + cell[1]) / 2.0).abs() < 1e-6,
            "{mean} vs {cell:?}"
        );
        assert!(!col(&sh, r, "test_accuracy_ci95").is_empty());
    }

    // Learning curves: every run has its training loss and dev accuracy; runs that use the
    // pretraining also carry its loss curve.
    let (ch, crows) = read_csv(&out.path().join("tiny/curves.csv"));
    assert_eq!(ch, ["run_id", "stage", "step", "split", "metric", "value"]);
    for id in &run_ids {
        let mine: Vec<&Vec<String>> = crows.iter().filter(|r| r[0] == *id).collect();
        assert!(
            mine.iter()
                .any(|r| r[1] == "downstream.C" && r[3] == "dev" && r[4] == "accuracy"),
            "{id}"
        );
        let pretrained = !id.starts_with("c001");
        assert_eq!(
            mine.iter().any(|r| r[1] == "pretrain.A" && r[4] == "loss"),
            pretrained,
            "{id}"
        );
    }

    // `report` rebuilds the same summary from runs.csv alone.
    let summary = out.path().join("tiny/summary.csv");
    let written = std::fs::read(&summary).unwrap();
    std::fs::remove_file(&summary).unwrap();
    let (code, err) = embedlab(&["report", out.path().join("tiny").to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        String::from_utf8(std::fs::read(&summary).unwrap()).unwrap(),
        String::from_utf8(written).unwrap()
    );

    // A rerun finds every run complete and every stage cached: nothing runs, nothing changes.
    let before = std::fs::read(&runs).unwrap();
    let (code, err) = embedlab(&["run", "tests/fixtures/e2e/tiny.toml", "--out", out_s]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("0 ok, 0 failed, 6 already complete; stages: 0 run, 0 reused"),
        "{err}"
    );
    assert_eq!(before, std::fs::read(&runs).unwrap());

    // Another seed reuses the tokenizer and the pretraining and adds only the new runs.
    let (code, err) = embedlab(&[
        "run",
        "tests/fixtures/e2e/tiny.toml",
        "--out",
        out_s,
        "--set",
        "seeds=[1, 2, 3]",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("3 ok, 0 failed, 6 already complete; stages: 3 run, 2 reused"),
        "{err}"
    );
    assert_eq!(read_csv(&runs).1.len(), 9);
}

#[test]
fn invalid_experiment_exits_2_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let exp = dir.path().join("bad.toml");
    let text = std::fs::read_to_string("tests/fixtures/e2e/tiny.toml")
        .unwrap()
        .replace("depth = 2", "depht = 2");
    std::fs::write(&exp, text).unwrap();
    let out = dir.path().join("out");
    let (code, err) = embedlab(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("bad.toml:")
            && err.contains("encoder.depht")
            && err.contains("did you mean 'depth'"),
        "{err}"
    );
    assert!(!out.exists(), "nothing may be written for invalid input");
}

#[test]
fn a_run_with_non_finite_loss_fails_alone_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let over = dir.path().join("diverge.toml");
    // A learning rate of 1e30 overflows float32 within a step or two.
    std::fs::write(&over, "[sweep]\n\"downstream.C.transfer\" = [\"scratch\"]\n\"downstream.C.optimizer.lr\" = [3e-3, 1e30]\n").unwrap();
    let out = dir.path().join("out");
    let (code, err) = embedlab(&[
        "run",
        "tests/fixtures/e2e/tiny.toml",
        over.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    let (h, rows) = read_csv(&out.join("tiny/runs.csv"));
    assert_eq!(rows.len(), 4);
    for r in &rows {
        let lr = col(&h, r, "downstream.C.optimizer.lr");
        if lr == "0.003" {
            assert_eq!(col(&h, r, "status"), "ok", "{r:?}");
        } else {
            assert_eq!(col(&h, r, "status"), "failed", "{r:?}");
            let e = col(&h, r, "error");
            assert!(e.contains("non-finite") && e.contains("step"), "{e}");
        }
    }
}

#[test]
fn missing_data_file_exits_2_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let exp = dir.path().join("tiny.toml");
    let text = std::fs::read_to_string("tests/fixtures/e2e/tiny.toml").unwrap();
    std::fs::write(&exp, text).unwrap(); // its relative data paths now point into the empty temp dir
    let out = dir.path().join("out");
    let (code, err) = embedlab(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("corpus.text.path") && err.contains("does not exist"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn same_experiment_and_seeds_twice_give_identical_metrics() {
    let metrics_of = |dir: &Path| -> Vec<Vec<String>> {
        let (h, rows) = read_csv(&dir.join("tiny/runs.csv"));
        let keep: Vec<usize> = (0..h.len())
            .filter(|&i| {
                let c = &h[i];
                c.starts_with("test_")
                    || c.starts_with("dev_")
                    || c == "train_loss"
                    || c == "pretrain_loss"
            })
            .collect();
        assert!(keep.len() >= 5, "{h:?}");
        rows.iter()
            .map(|r| keep.iter().map(|&i| r[i].clone()).collect())
            .collect()
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for d in [&a, &b] {
        let (code, err) = embedlab(&[
            "run",
            "tests/fixtures/e2e/tiny.toml",
            "--out",
            d.path().to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
    }
    let (ma, mb) = (metrics_of(a.path()), metrics_of(b.path()));
    assert_eq!(ma.len(), 6);
    assert_eq!(ma, mb);
    // The learning curves too, point by point, and the stage keys.
    let read = |d: &Path, f: &str| std::fs::read_to_string(d.join("tiny").join(f)).unwrap();
    assert_eq!(read(a.path(), "curves.csv"), read(b.path(), "curves.csv"));
    let keys = |d: &Path| {
        let (h, rows) = read_csv(&d.join("tiny/runs.csv"));
        rows.iter()
            .map(|r| col(&h, r, "stage_keys").to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(a.path()), keys(b.path()));
}

#[test]
fn report_md_structure() {
    let out = tempfile::tempdir().unwrap();
    let (code, err) = embedlab(&[
        "run",
        "tests/fixtures/e2e/tiny.toml",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(out.path().join("tiny/report.md")).unwrap();
    // The structure is the snapshot; the figures depend on floating point and are masked.
    let masked = regex::Regex::new(r"-?\d+\.\d+")
        .unwrap()
        .replace_all(&md, "#.####");
    insta::assert_snapshot!(masked);
}

#[test]
fn static_word_vectors_are_trained_upstream_and_kept_fixed() {
    let out = tempfile::tempdir().unwrap();
    let (code, err) = embedlab(&[
        "run",
        "tests/fixtures/e2e/tiny.toml",
        "--out",
        out.path().to_str().unwrap(),
        "--set",
        "embeddings.word=\"static\"",
    ]);
    assert_eq!(code, 0, "{err}");
    let stages = out.path().join(".stages");
    let entries: Vec<std::path::PathBuf> = std::fs::read_dir(&stages)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let vectors_dir = entries
        .iter()
        .find(|p| p.join("vectors.safetensors").is_file())
        .expect("vectors stage");
    // A stage of its own: finished like every stage, with its metrics.
    assert!(vectors_dir.join("metrics.json").is_file());
    let vectors =
        embedlab::runtime::load_checkpoint(&vectors_dir.join("vectors.safetensors")).unwrap();
    let pretrained = entries
        .iter()
        .find(|p| p.join("params.safetensors").exists())
        .expect("pretraining stage");
    let params =
        embedlab::runtime::load_checkpoint(&pretrained.join("params.safetensors")).unwrap();
    // Pretraining trained everything else but left the upstream vectors as they were.
    assert_eq!(
        params.params.get("embeddings.word"),
        vectors.params.get("word2vec.in")
    );
    let (h, rows) = read_csv(&out.path().join("tiny/runs.csv"));
    assert!(
        rows.iter()
            .all(|r| col(&h, r, "status") == "ok" && col(&h, r, "word") == "static")
    );
}

#[test]
fn plan_prints_kept_and_removed_counts_per_filter() {
    let out = command()
        .args([
            "plan",
            "tests/fixtures/e2e/tiny.toml",
            "--set",
            "corpus.text.filter={ min_chars = 55, dedup = true }",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("corpus.text:"))
        .unwrap_or_else(|| panic!("{text}"));
    // e.g. "corpus.text: kept 60; removed blank_lines 0, min_chars 45, dedup 15"
    let counts: std::collections::HashMap<String, usize> = regex::Regex::new(r"(\w+) (\d+)")
        .unwrap()
        .captures_iter(line)
        .map(|c| (c[1].to_string(), c[2].parse().unwrap()))
        .collect();
    assert!(counts["min_chars"] > 0 && counts["dedup"] > 0, "{line}");
    assert_eq!(
        counts["kept"] + counts["blank_lines"] + counts["min_chars"] + counts["dedup"],
        120,
        "{line}"
    );
    assert!(text.contains("dataset.words: kept 72"), "{text}");
}

#[test]
fn an_import_of_something_that_is_not_a_model_is_invalid_input() {
    let out = tempfile::tempdir().unwrap();
    let (code, err) = embedlab(&[
        "run",
        "tests/fixtures/e2e/tiny.toml",
        "--out",
        out.path().join("o").to_str().unwrap(),
        "--set",
        "pretrain.A.task=\"import\"",
        "--set",
        "pretrain.A.path=\"Cargo.toml\"",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("pretrain.A.path: ") && err.contains("expected a BERT-family model directory"),
        "{err}"
    );
    assert!(!out.path().join("o").exists());
}

#[test]
fn every_pretraining_task_runs_and_transfers() {
    for (task, data) in [
        ("mlm", "text"),
        ("clm", "text"),
        ("nsp", "text"),
        ("sop", "text"),
        ("classify", "words"),
    ] {
        let out = tempfile::tempdir().unwrap();
        // A causal (clm) encoder pools at its last token: [CLS] sees only itself there.
        let pooling = if task == "clm" { "last" } else { "cls" };
        let (code, err) = embedlab(&[
            "run",
            "tests/fixtures/e2e/tiny.toml",
            "--out",
            out.path().to_str().unwrap(),
            "--set",
            &format!("pretrain.A.task=\"{task}\""),
            "--set",
            &format!("pretrain.A.data=\"{data}\""),
            "--set",
            &format!("downstream.C.pooling=\"{pooling}\""),
        ]);
        assert_eq!(code, 0, "{task}: {err}");
        let (h, rows) = read_csv(&out.path().join("tiny/runs.csv"));
        assert_eq!(rows.len(), 6, "{task}");
        let (ch, curves) = read_csv(&out.path().join("tiny/curves.csv"));
        for r in rows.iter().filter(|r| col(&h, r, "transfer") != "scratch") {
            assert_eq!(col(&h, r, "status"), "ok", "{task}: {r:?}");
            assert!(
                col(&h, r, "pretrain_loss")
                    .parse::<f64>()
                    .unwrap()
                    .is_finite(),
                "{task}"
            );
            // Held-out pretraining metrics (masked-token, next-token or pair/class accuracy, and
            // the loss) are the stage's last dev point in curves.csv. Twenty steps leave every
            // task near chance (mlm's dev accuracy is 0, sop's 0.5: the corpus's lines are one
            // template, so their order cannot be learned), so no bound on them could tell a
            // trained encoder from a broken one.
            let dev = |metric: &str| -> f64 {
                let point = curves.iter().rfind(|c| {
                    col(&ch, c, "run_id") == col(&h, r, "run_id")
                        && col(&ch, c, "stage") == "pretrain.A"
                        && col(&ch, c, "split") == "dev"
                        && col(&ch, c, "metric") == metric
                });
                let point =
                    point.unwrap_or_else(|| panic!("{task}: no dev {metric} point of pretrain.A"));
                col(&ch, point, "value").parse().unwrap()
            };
            let num = |name: &str| -> f64 { col(&h, r, name).parse().unwrap() };
            assert_eq!(num("pretrain_dev_accuracy"), dev("accuracy"), "{task}");
            assert_eq!(num("pretrain_dev_loss"), dev("loss"), "{task}");
            if task == "clm" {
                // Perplexity is e to the dev loss (nats per token).
                let ppl = num("pretrain_perplexity");
                assert!(
                    (ppl - num("pretrain_dev_loss").exp()).abs() < 1e-9 * ppl,
                    "{ppl}"
                );
            }
        }
    }
}

#[test]
fn a_chain_pretrains_on_a_then_continues_on_b() {
    let dir = tempfile::tempdir().unwrap();
    let over = dir.path().join("chain.toml");
    std::fs::write(&over, "[pretrain.B]\ntask = \"sop\"\ndata = \"text\"\nsteps = 10\nbatch_size = 8\nseq_len = 16\n[downstream.C]\nfrom = [\"A\", \"B\"]\n").unwrap();
    let out = dir.path().join("out");
    let (code, err) = embedlab(&[
        "run",
        "tests/fixtures/e2e/tiny.toml",
        over.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // tokenizer, A, B (continuing from A), six downstream stages.
    assert!(
        err.contains("6 ok, 0 failed, 0 already complete; stages: 9 run"),
        "{err}"
    );
    let (h, rows) = read_csv(&out.join("tiny/runs.csv"));
    assert!(
        rows.iter()
            .filter(|r| col(&h, r, "transfer") == "finetune")
            .all(|r| col(&h, r, "pretrain") == "A>B")
    );
}
