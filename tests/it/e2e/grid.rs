//! Batch execution: shared pretraining stages are trained once per distinct setting, shards
//! running at the same time share one results folder, and a run killed with SIGKILL resumes.
use crate::cli::{command, embedlab};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const TINY: &str = "tests/fixtures/e2e/tiny.toml";

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
        command()
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
    let mut child = command().args(args).stderr(Stdio::null()).spawn().unwrap();
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
    let mut child = command().args(args).stderr(Stdio::null()).spawn().unwrap();
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

/// runs.csv as run_id → (column → value), without the columns that may differ between two
/// executions of the same grid (wall times, threads).
fn rows_by_run(
    path: &Path,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|x| x.unwrap())
        .map(|x| {
            let row: std::collections::BTreeMap<String, String> = h
                .iter()
                .cloned()
                .zip(x.iter().map(String::from))
                .filter(|(c, _)| !super::compare::is_timing(c) && c != "threads")
                .collect();
            (row["run_id"].clone(), row)
        })
        .collect()
}

#[test]
fn two_jobs_give_the_same_rows_as_one_and_run_shared_stages_once() {
    let dir = tempfile::tempdir().unwrap();
    // Two pretraining settings: scratch (one cell: it ignores the pretraining), frozen and
    // finetune per setting, two seeds: 10 runs over 1 tokenizer and 2 pretrainings.
    let over = dir.path().join("grid.toml");
    std::fs::write(&over, "[sweep]\n\"pretrain.A.steps\" = [10, 20]\n").unwrap();
    let mut by_jobs = Vec::new();
    for jobs in ["1", "2"] {
        let out = dir.path().join(format!("jobs{jobs}"));
        let (code, err) = embedlab(&[
            "run",
            TINY,
            over.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--jobs",
            jobs,
        ]);
        assert_eq!(code, 0, "{err}");
        assert_eq!(err.matches("pretrain.A: done").count(), 2, "{err}");
        assert_eq!(err.matches("tokenizer: done").count(), 1, "{err}");
        assert!(
            err.contains("10 ok, 0 failed, 0 already complete; stages: 13 run, 0 reused"),
            "{err}"
        );
        assert_complete(&out.join("tiny/runs.csv"), 10);
        by_jobs.push(rows_by_run(&out.join("tiny/runs.csv")));
    }
    assert_eq!(by_jobs[0].len(), 10);
    for (run, row) in &by_jobs[0] {
        let other = &by_jobs[1][run];
        let differ: Vec<_> = row
            .iter()
            .filter(|(c, v)| other.get(*c) != Some(v))
            .map(|(c, v)| (c, v, other.get(c)))
            .collect();
        assert!(differ.is_empty(), "{run}: {differ:?}");
    }
    assert_eq!(
        by_jobs[0].keys().collect::<Vec<_>>(),
        by_jobs[1].keys().collect::<Vec<_>>()
    );
}

#[test]
fn plots_are_written_linked_from_the_report_and_rebuilt_by_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, err) = embedlab(&["run", TINY, "--out", out.to_str().unwrap(), "--jobs", "2"]);
    assert_eq!(code, 0, "{err}");
    let exp = out.join("tiny");
    let svg = |name: &str| {
        std::fs::read_to_string(exp.join("plots").join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let by_transfer = [
        "test_accuracy_by_downstream.C.transfer.svg",
        "test_macro_f1_by_downstream.C.transfer.svg",
    ];
    let curves = [
        "curve_pretrain.A_train_loss.svg",
        "curve_downstream.C_train_loss.svg",
        "curve_downstream.C_dev_accuracy.svg",
    ];
    for name in by_transfer {
        let s = svg(name);
        assert!(s.starts_with("<svg"), "{name}");
        // The axis values as category labels, the axis and the metric as descriptions.
        for label in [
            "\nscratch\n",
            "\nfrozen\n",
            "\nfinetune\n",
            "\ndownstream.C.transfer\n",
            "95% CI",
        ] {
            assert!(s.contains(label), "{name} lacks {label:?}");
        }
        // Two seeds per cell: an error bar (a vertical line and two caps) per value.
        assert!(
            s.matches("<line").count() + s.matches("<polyline").count() >= 3 * 3,
            "{name}"
        );
    }
    // The shared pretraining is one curve; every run has its own downstream curves.
    let s = svg(curves[0]);
    assert!(
        s.contains("(+3 runs, same curve)") && s.contains("\nstep\n"),
        "{s}"
    );
    let s = svg(curves[1]);
    for run in [
        "c001-s1", "c001-s2", "c002-s1", "c002-s2", "c003-s1", "c003-s2",
    ] {
        assert!(
            s.contains(&format!("\n{run}\n")),
            "{} lacks {run}",
            curves[1]
        );
    }
    assert!(svg(curves[2]).contains("\ndev accuracy\n"));
    let md = std::fs::read_to_string(exp.join("report.md")).unwrap();
    for name in by_transfer.iter().chain(&curves) {
        assert!(
            md.contains(&format!("(plots/{name})")),
            "report.md lacks {name}:\n{md}"
        );
    }
    // `report` draws them again from runs.csv and curves.csv.
    std::fs::remove_dir_all(exp.join("plots")).unwrap();
    let (code, err) = embedlab(&["report", exp.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for name in by_transfer.iter().chain(&curves) {
        assert!(exp.join("plots").join(name).exists(), "{name} not rebuilt");
    }
    assert_eq!(std::fs::read_to_string(exp.join("report.md")).unwrap(), md);
}

#[test]
fn with_two_jobs_a_failed_shared_stage_fails_the_runs_that_need_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    // The pretraining diverges; the scratch runs do not need it.
    let args = [
        "run",
        TINY,
        "--out",
        out.to_str().unwrap(),
        "--jobs",
        "2",
        "--set",
        "pretrain.A.optimizer={ lr = 1e30 }",
    ];
    let (code, err) = embedlab(&args);
    assert_eq!(code, 1, "{err}");
    assert_eq!(err.matches("pretrain.A: failed").count(), 1, "{err}");
    // Failures are printed as they happen, one per run.
    assert_eq!(err.matches("failed: pretrain.A: ").count(), 4, "{err}");
    assert!(
        err.contains("2 ok, 4 failed, 0 already complete; stages: 4 run, 0 reused"),
        "{err}"
    );
    let rs = rows(&out.join("tiny/runs.csv"));
    let failed: Vec<&str> = rs
        .iter()
        .filter(|(_, s)| s == "failed")
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(failed, ["c002-s1", "c002-s2", "c003-s1", "c003-s2"]);
}
