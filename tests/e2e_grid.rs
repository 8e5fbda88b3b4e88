//! Batch execution: shared pretraining stages are trained once per distinct setting, shards
//! running at the same time share one results folder, and a run killed with SIGKILL resumes.
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TINY: &str = "tests/fixtures/e2e/tiny.toml";

fn embedlab(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_embedlab"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// (run_id, status) of every row; panics on a malformed file.
fn rows(path: &Path) -> Vec<(String, String)> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let (id, st) = (
        h.iter().position(|c| c == "run_id").unwrap(),
        h.iter().position(|c| c == "status").unwrap(),
    );
    r.records()
        .map(|x| x.unwrap())
        .map(|x| (x[id].to_string(), x[st].to_string()))
        .collect()
}

fn assert_complete(path: &Path, n: usize) {
    let rs = rows(path);
    let mut ids: Vec<&str> = rs.iter().map(|(i, _)| i.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), rs.len(), "duplicate rows: {rs:?}");
    assert_eq!(rs.len(), n, "{rs:?}");
    assert!(rs.iter().all(|(_, s)| s == "ok"), "{rs:?}");
}

#[test]
fn twelve_cells_over_two_pretrainings_train_two_pretraining_stages() {
    let dir = tempfile::tempdir().unwrap();
    let over = dir.path().join("grid.toml");
    std::fs::write(
        &over,
        "seeds = [1]\n[sweep]\n\"downstream.C.transfer\" = [\"frozen\", \"finetune\"]\n\"pretrain.A.steps\" = [10, 20]\n\"downstream.C.epochs\" = [1, 2, 3]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let (code, err) = embedlab(&[
        "run",
        TINY,
        over.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err.matches("pretrain.A: done").count(), 2, "{err}");
    assert!(
        err.contains("12 ok, 0 failed, 0 already complete; stages: 15 run, 0 reused"),
        "{err}"
    );
    assert_complete(&out.join("tiny/runs.csv"), 12);
}

#[test]
fn two_shards_at_once_share_one_results_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let spawn = |shard: &str| {
        Command::new(env!("CARGO_BIN_EXE_embedlab"))
            .args([
                "run",
                TINY,
                "--out",
                out.to_str().unwrap(),
                "--shard",
                shard,
            ])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn("1/2"), spawn("2/2"));
    for child in [a, b] {
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (code, err) = embedlab(&["report", out.join("tiny").to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_complete(&out.join("tiny/runs.csv"), 6);
    let summary = std::fs::read_to_string(out.join("tiny/summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 4, "{summary}");
    // The tokenizer and the pretraining exist once, whichever shard made them.
    let stages: Vec<_> = std::fs::read_dir(out.join(".stages"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        stages
            .iter()
            .filter(|n| !n.to_string_lossy().ends_with(".lock"))
            .count(),
        8,
        "{stages:?}"
    );
}

#[test]
fn killed_mid_grid_then_rerun_completes_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let runs = out.join("tiny/runs.csv");
    let args = [
        "run",
        TINY,
        "--out",
        out.to_str().unwrap(),
        "--set",
        "downstream.C.epochs=40",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_embedlab"))
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while !(runs.exists() && rows(&runs).len() >= 2) {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no rows appeared"
        );
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill(); // SIGKILL (a no-op if it already finished)
    child.wait().unwrap();
    let before = rows(&runs).len();
    assert!((2..=6).contains(&before));
    let (code, err) = embedlab(&args);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("{} already complete", before)),
        "{err}"
    );
    // Stages finished before the kill (at least the tokenizer, which every run needs) are reused.
    let reused: usize = err
        .split(" run, ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    if before < 6 {
        assert!(reused >= 1, "{err}");
    }
    assert_complete(&runs, 6);
}

#[test]
fn a_killed_pretraining_resumes_from_its_last_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let args = [
        "run",
        TINY,
        "--out",
        out.to_str().unwrap(),
        "--set",
        "pretrain.A.steps=3000",
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_embedlab"))
        .args(args)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for a periodic checkpoint of the pretraining (every 300 steps here), then kill.
    let stages = out.join(".stages");
    let start = Instant::now();
    let found = loop {
        let ck = std::fs::read_dir(&stages).ok().and_then(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path().join("resume.safetensors"))
                .find(|p| p.exists())
        });
        if ck.is_some()
            || child.try_wait().unwrap().is_some()
            || start.elapsed() > Duration::from_secs(120)
        {
            break ck.is_some();
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();
    let (code, err) = embedlab(&args);
    assert_eq!(code, 0, "{err}");
    if found {
        assert!(
            err.contains("resuming from step") && err.contains("of 3000"),
            "{err}"
        );
    }
    assert_complete(&out.join("tiny/runs.csv"), 6);
    // Completed stages leave no periodic checkpoints behind.
    assert!(
        !std::fs::read_dir(&stages).unwrap().any(|e| e
            .unwrap()
            .path()
            .join("resume.safetensors")
            .exists())
    );
}
