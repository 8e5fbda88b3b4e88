//! End to end, what report.md says an interval covers: with `replicate = true` every seed
//! pretrains its own encoder and the interval includes pretraining variance; without it, the
//! seeds share one pretrained encoder and report.md says so, in the summary and the paired
//! differences. runs.csv records each run's pretraining stage keys (`pretrain_keys`).
use crate::cli::{col, embedlab, read_csv};

/// Runs the tiny experiment (scratch and finetune, 2 seeds) with `pretrain.A.replicate`;
/// returns runs.csv and report.md.
fn run(replicate: bool) -> ((Vec<String>, Vec<Vec<String>>), String) {
    let out = tempfile::tempdir().unwrap();
    let over = out.path().join("two_modes.toml");
    std::fs::write(
        &over,
        format!(
            "[pretrain.A]\nreplicate = {replicate}\n[sweep]\n\"downstream.C.transfer\" = [\"scratch\", \"finetune\"]\n"
        ),
    )
    .unwrap();
    let (code, err) = embedlab(&[
        "run",
        "tests/fixtures/e2e/tiny.toml",
        over.to_str().unwrap(),
        "--out",
        out.path().join("out").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let md = std::fs::read_to_string(out.path().join("out/tiny/report.md")).unwrap();
    (read_csv(&out.path().join("out/tiny/runs.csv")), md)
}

#[test]
fn report_says_whether_each_interval_includes_pretraining_variance() {
    let ((h, rows), md) = run(false);
    let keys: Vec<&str> = rows
        .iter()
        .filter(|r| col(&h, r, "transfer") == "finetune")
        .map(|r| col(&h, r, "pretrain_keys"))
        .collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "shared pretraining: one key");
    assert!(
        rows.iter()
            .filter(|r| col(&h, r, "transfer") == "scratch")
            .all(|r| col(&h, r, "pretrain_keys").is_empty())
    );
    let shared = "no, all 2 seeds share one pretrained encoder";
    let summary_line = md
        .lines()
        .find(|l| l.starts_with("| c002 |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(summary_line.ends_with(&format!("| {shared} |")), "{md}");
    let scratch_line = md.lines().find(|l| l.starts_with("| c001 |")).unwrap();
    assert!(
        scratch_line.ends_with("| not applicable (no pretraining) |"),
        "{md}"
    );
    let paired = md
        .lines()
        .find(|l| l.starts_with("| finetune − scratch |"))
        .unwrap_or_else(|| panic!("{md}"));
    assert!(paired.ends_with(&format!("| {shared} |")), "{md}");

    let ((h, rows), md) = run(true);
    let keys: Vec<&str> = rows
        .iter()
        .filter(|r| col(&h, r, "transfer") == "finetune")
        .map(|r| col(&h, r, "pretrain_keys"))
        .collect();
    assert_ne!(keys[0], keys[1], "one pretraining per seed");
    let replicated = "yes: 2 pretrainings, one per seed";
    let summary_line = md.lines().find(|l| l.starts_with("| c002 |")).unwrap();
    assert!(summary_line.ends_with(&format!("| {replicated} |")), "{md}");
    let paired = md
        .lines()
        .find(|l| l.starts_with("| finetune − scratch |"))
        .unwrap();
    assert!(paired.ends_with(&format!("| {replicated} |")), "{md}");
}
