//! What truncation cuts is reported: `plan` says it is unknown until the tokenizer is fitted,
//! then (the tokenizer stage finished) prints how many examples exceed `seq_len` and the share
//! of tokens cut; a run writes the same counts to runs.csv and warns, naming the dataset, when
//! more than a tenth of the examples are cut.
use crate::cli::{col, command, embedlab, read_csv};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/e2e")
        .join(name)
}

fn plan_text(out: &Path, seq_len: usize) -> String {
    let o = command()
        .args([
            "plan",
            fixture("tiny.toml").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--set",
            "seeds=[1]",
            "--set",
            &format!("downstream.C.seq_len={seq_len}"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn plan_and_runs_report_what_truncation_cuts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let before = plan_text(&out, 6);
    assert!(
        before.contains("dataset.words at seq_len 6: unknown until the tokenizer is fitted"),
        "{before}"
    );

    // Every text of the fixture has 9 words: at seq_len 6 (4 text tokens) all are cut.
    let (code, err) = embedlab(&[
        "run",
        fixture("tiny.toml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--set",
        "seeds=[1]",
        "--set",
        "downstream.C.seq_len=6",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: dataset 'words':") && err.contains("are longer than seq_len = 6"),
        "{err}"
    );
    let (h, rows) = read_csv(&out.join("tiny/runs.csv"));
    let truncated: f64 = col(&h, &rows[0], "data.words.truncated_examples")
        .parse()
        .unwrap();
    let share: f64 = col(&h, &rows[0], "data.words.cut_token_share")
        .parse()
        .unwrap();
    assert!(truncated > 0.0, "{truncated}");
    assert!(share > 0.5 && share < 1.0, "{share}");

    let after = plan_text(&out, 6);
    let line = after
        .lines()
        .find(|l| l.contains("dataset.words at seq_len 6:"))
        .unwrap_or_else(|| panic!("{after}"));
    assert!(
        line.contains(&format!(
            "{truncated} of {truncated} examples exceed it (100.0%)"
        )),
        "{line}"
    );
    assert!(
        line.contains(&format!("{:.1}% of tokens cut", 100.0 * share)),
        "{line} vs {share}"
    );
}
