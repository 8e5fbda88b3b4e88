//! The pretraining and transfer recipe's levers end to end: packing, `lp-ft`, and the check that a
//! downstream stage reads no position its pretraining never trained.
use crate::cli::{col, embedlab, read_csv};
use std::path::{Path, PathBuf};

const TINY: &str = "tests/fixtures/e2e/tiny.toml";

fn num(h: &[String], r: &[String], name: &str) -> f64 {
    col(h, r, name)
        .parse()
        .unwrap_or_else(|_| panic!("{name} = {:?} is not a number", col(h, r, name)))
}

/// Runs the tiny experiment with `overrides` (an experiment file's text laid over it); returns
/// the exit code, stderr and the results folder.
fn run(dir: &Path, command: &str, overrides: &str) -> (i32, String, PathBuf) {
    let over = dir.join("over.toml");
    std::fs::write(&over, overrides).unwrap();
    let out = dir.join("out");
    let tiny = Path::new(env!("CARGO_MANIFEST_DIR")).join(TINY);
    let (code, err) = embedlab(&[
        command,
        tiny.to_str().unwrap(),
        over.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    (code, err, out.join("tiny"))
}

#[test]
fn lp_ft_fine_tunes_from_the_head_its_probe_trained() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err, out) = run(
        dir.path(),
        "run",
        r#"seeds = [1]
[downstream.C]
probe = { epochs = 15, lr = 1e-2 }
[sweep]
"downstream.C.transfer" = ["frozen", "lp-ft"]
"#,
    );
    assert_eq!(code, 0, "{err}");
    let (h, rows) = read_csv(&out.join("runs.csv"));
    let by = |t: &str| {
        rows.iter()
            .find(|r| col(&h, r, "transfer") == t)
            .unwrap_or_else(|| panic!("no {t} row"))
    };
    let (frozen, lpft) = (by("frozen"), by("lp-ft"));
    // The probe phase is the frozen run: same features, same head schedule, same seed.
    assert_eq!(
        num(&h, lpft, "probe_dev_accuracy"),
        num(&h, frozen, "dev_accuracy"),
        "lp-ft's probe differs from the frozen run"
    );
    // Fine-tuning starts from that head: the whole model scores what the probe scored on dev
    // before its first step (the same arithmetic in another graph: one tie may flip).
    let (start, probe) = (
        num(&h, lpft, "start_dev_accuracy"),
        num(&h, lpft, "probe_dev_accuracy"),
    );
    assert!(
        (start - probe).abs() <= 1.0 / 12.0 + 1e-9,
        "fine-tuning started at dev accuracy {start}, the probe ended at {probe}"
    );
    assert!(num(&h, lpft, "transferred_tensors") > 0.0);
    assert_eq!(col(&h, frozen, "start_dev_accuracy"), "");
}

#[test]
fn packing_fills_pretraining_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err, out) = run(
        dir.path(),
        "run",
        r#"seeds = [1]
[encoder]
max_len = 48
# One row per batch: no padding rows in a last batch, only padding within rows.
[pretrain.A]
seq_len = 48
batch_size = 1
[sweep]
"pretrain.A.pack" = [true, false]
"downstream.C.transfer" = ["finetune"]
"#,
    );
    assert_eq!(code, 0, "{err}");
    let (h, rows) = read_csv(&out.join("runs.csv"));
    assert_eq!(rows.len(), 2);
    let share = |pack: &str| {
        let r = rows
            .iter()
            .find(|r| col(&h, r, "pretrain.A.pack") == pack)
            .unwrap_or_else(|| panic!("no pack = {pack} row"));
        assert!(num(&h, r, "pretrain_real_tokens_per_second") > 0.0);
        num(&h, r, "pretrain_padding_share")
    };
    let (packed, lines) = (share("true"), share("false"));
    println!("padding share: packed {packed:.4}, one line per row {lines:.4}");
    assert!(packed <= 0.05, "packed rows are {packed} padding");
    assert!(
        lines > 2.0 * packed,
        "one line per row: {lines}, packed: {packed}"
    );
}

#[test]
fn a_downstream_window_longer_than_pretraining_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err, _) = run(
        dir.path(),
        "plan",
        "[pretrain.A]\nseq_len = 8\n[sweep]\n\"downstream.C.transfer\" = [\"finetune\"]\n",
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("seq_len") && err.contains("pretrain.A.seq_len = 8"),
        "{err}"
    );
    // Scratch reads no pretrained positions: the same setting plans.
    let (code, err, _) = run(
        dir.path(),
        "plan",
        "[pretrain.A]\nseq_len = 8\n[sweep]\n\"downstream.C.transfer\" = [\"scratch\"]\n",
    );
    assert_eq!(code, 0, "{err}");
}
