//! End to end, every downstream task under every transfer mode: the real binary runs the tiny
//! experiment with a pair task (segment ids from two texts) and a tag task (BIO tags per token),
//! each under scratch, frozen, finetune, `layers = 1` and `freeze = "embeddings"`, and we check
//! the metrics each writes: `predict` of every run labels the test split so that the metrics
//! recomputed from its labels are runs.csv's, and where the tiny model learns in its three
//! epochs it beats every constant predictor.
use crate::cli::{col, embedlab, read_csv};
use crate::score;
use std::path::{Path, PathBuf};

fn num(headers: &[String], row: &[String], name: &str) -> f64 {
    col(headers, row, name)
        .parse()
        .unwrap_or_else(|_| panic!("{name} = {:?} is not a number", col(headers, row, name)))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/e2e")
        .join(name)
}

/// Runs the tiny experiment with downstream C switched to `task` on `file`, one seed, sweeping
/// the transfer modes, in `dir`; returns the runs.csv.
fn run_task(dir: &Path, task: &str, file: &str, extra: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let over = dir.join("task.toml");
    let text = format!(
        r#"seeds = [1]
[dataset.{task}data]
path = "{path}"
split = "split"
{extra}
[downstream.C]
task = "{task}"
data = "{task}data"
[sweep]
"downstream.C.transfer" = ["scratch", "frozen", "finetune"]
"downstream.C.layers" = ["all", 1]
"#,
        path = fixture(file).display()
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
    // scratch ignores `layers`, so its two cells are one: 5 cells.
    assert!(err.contains("5 ok, 0 failed"), "{task}: {err}");
    read_csv(&out.join("tiny/runs.csv"))
}

fn check_transfer_columns(task: &str, h: &[String], rows: &[Vec<String>]) {
    for r in rows {
        assert_eq!(col(h, r, "status"), "ok", "{task}: {r:?}");
        match (col(h, r, "transfer"), col(h, r, "layers")) {
            ("scratch", _) => assert_eq!(
                col(h, r, "transferred_tensors"),
                "",
                "{task}: scratch loads nothing"
            ),
            ("frozen", _) => assert_eq!(
                num(h, r, "encoder_checksum_unchanged"),
                1.0,
                "{task}: frozen encoder changed"
            ),
            ("finetune", "1") => assert!(num(h, r, "transferred_tensors") > 0.0),
            _ => {}
        }
    }
}

/// The run folder of runs.csv row `r` of a [`run_task`] in `dir`.
fn run_dir(dir: &Path, h: &[String], r: &[String]) -> PathBuf {
    dir.join("out/tiny/runs").join(col(h, r, "run_id"))
}

#[test]
fn pair_task_runs_under_every_transfer_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (h, rows) = run_task(
        dir.path(),
        "pair",
        "pairs.tsv",
        "text_pair = \"text_pair\"\n[embeddings]\nsegment = true",
    );
    assert_eq!(rows.len(), 5);
    check_transfer_columns("pair", &h, &rows);
    // Three epochs teach the tiny model nothing about pairs (every cell answers one class: 0.5,
    // the constant predictor; 20 epochs at 10x the rate stay within one example of it), so the
    // check is that the metrics are those of the labels the run's model gives.
    let test = score::split_rows(&fixture("pairs.tsv"), "test");
    let gold = score::column(&test, "label");
    for r in &rows {
        let run = run_dir(dir.path(), &h, r);
        let pred = score::predict(&run, &test, &["text", "text_pair"], "label", dir.path());
        let (acc, f1) = score::accuracy_macro_f1(&gold, &pred);
        assert_eq!(num(&h, r, "test_accuracy"), acc, "pair {r:?}");
        assert!(
            (num(&h, r, "test_macro_f1") - f1).abs() < 1e-12,
            "pair {r:?}: F1 {f1}"
        );
    }
}

#[test]
fn tag_task_runs_under_every_transfer_mode_and_reports_span_f1() {
    let dir = tempfile::tempdir().unwrap();
    let (h, rows) = run_task(dir.path(), "tag", "tags.tsv", "");
    assert_eq!(rows.len(), 5);
    check_transfer_columns("tag", &h, &rows);
    let test = score::split_rows(&fixture("tags.tsv"), "test");
    let gold = score::column(&test, "label");
    let (constant_acc, constant_f1) = score::constant_tagger(&gold);
    for r in &rows {
        let (acc, f1) = (num(&h, r, "test_accuracy"), num(&h, r, "test_span_f1"));
        let (p, rec) = (
            num(&h, r, "test_span_precision"),
            num(&h, r, "test_span_recall"),
        );
        let run = run_dir(dir.path(), &h, r);
        let pred = score::predict(&run, &test, &["text"], "tags", dir.path());
        let (pred_acc, pred_f1) = score::tag_scores(&gold, &pred);
        assert!(
            (acc - pred_acc).abs() < 1e-12,
            "tag {r:?}: predict {pred_acc}"
        );
        assert!(
            (f1 - pred_f1).abs() < 1e-12,
            "tag {r:?}: predict F1 {pred_f1}"
        );
        let harmonic = if p + rec == 0.0 {
            0.0
        } else {
            2.0 * p * rec / (p + rec)
        };
        assert!((f1 - harmonic).abs() < 1e-12, "tag {r:?}: F1 of P and R");
        // Trained encoders learn the tags; a frozen one (20 pretraining steps) gives a head
        // little to read, and its runs score below always-`O`.
        if col(&h, r, "transfer") != "frozen" {
            assert!(
                acc > constant_acc,
                "tag {r:?}: accuracy {acc} vs {constant_acc}"
            );
            assert!(f1 > constant_f1, "tag {r:?}: span F1 {f1} vs {constant_f1}");
        }
    }
}

#[test]
fn freeze_embeddings_keeps_the_transferred_embeddings_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, err) = embedlab(&[
        "run",
        fixture("tiny.toml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--set",
        "seeds=[1]",
        "--set",
        "downstream.C.freeze=\"embeddings\"",
    ]);
    assert_eq!(code, 0, "{err}");
    let (h, rows) = read_csv(&out.join("tiny/runs.csv"));
    let ft: Vec<_> = rows
        .iter()
        .filter(|r| col(&h, r, "transfer") == "finetune")
        .collect();
    assert_eq!(ft.len(), 1);
    assert_eq!(num(&h, ft[0], "embeddings_checksum_unchanged"), 1.0);
    // The other modes ignore `freeze`: the column stays empty for them.
    for r in rows.iter().filter(|r| col(&h, r, "transfer") != "finetune") {
        assert_eq!(col(&h, r, "embeddings_checksum_unchanged"), "", "{r:?}");
    }
}

/// `probe` retrains only the feature-extraction head: the frozen run's stage changes and its head
/// trains for the probe's epochs (one dev point per epoch in curves.csv), while the scratch and
/// fine-tuned runs keep their stage keys (they ignore `probe`).
#[test]
fn probe_settings_apply_to_feature_extraction_only() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, sets: &[&str]| {
        let out = dir.path().join(name);
        let mut args: Vec<String> = vec![
            "run".into(),
            fixture("tiny.toml").to_str().unwrap().into(),
            "--out".into(),
            out.to_str().unwrap().into(),
            "--set".into(),
            "seeds=[1]".into(),
        ];
        args.extend(
            sets.iter()
                .flat_map(|s| ["--set".to_string(), s.to_string()]),
        );
        let (code, err) = embedlab(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(code, 0, "{err}");
        let (h, rows) = read_csv(&out.join("tiny/runs.csv"));
        let by_transfer = |t: &str| -> Vec<String> {
            let r = rows.iter().find(|r| col(&h, r, "transfer") == t).unwrap();
            vec![
                col(&h, r, "stage_keys").to_string(),
                col(&h, r, "run_id").to_string(),
            ]
        };
        let dev_points = |run_id: &str| {
            let (ch, curves) = read_csv(&out.join("tiny/curves.csv"));
            curves
                .iter()
                .filter(|r| col(&ch, r, "run_id") == run_id)
                .filter(|r| col(&ch, r, "stage") == "downstream.C")
                .filter(|r| col(&ch, r, "split") == "dev")
                .count()
        };
        let frozen = by_transfer("frozen");
        (
            by_transfer("scratch")[0].clone(),
            by_transfer("finetune")[0].clone(),
            frozen[0].clone(),
            dev_points(&frozen[1]),
        )
    };
    let plain = run("plain", &[]);
    let probed = run("probe", &["downstream.C.probe={ epochs = 7, lr = 0.05 }"]);
    assert_eq!(plain.0, probed.0, "scratch stage keys");
    assert_eq!(plain.1, probed.1, "fine-tuned stage keys");
    assert_ne!(plain.2, probed.2, "frozen stage keys");
    assert_eq!(
        plain.3, 3,
        "dev points of the frozen run without a probe (epochs = 3)"
    );
    assert_eq!(
        probed.3, 7,
        "dev points of the frozen run with probe epochs = 7"
    );
}
