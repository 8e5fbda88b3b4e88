//! Crash safety: the tiny grid (tokenizer, one pretraining, six downstream runs) is killed with
//! SIGKILL at 20 different moments, from start-up to the final summary, each time in a fresh
//! results folder, and rerun. Every rerun must complete the grid with runs.csv exactly as an
//! uninterrupted run writes it: the same six rows, once each, all ok, the same metrics, and no
//! stage leftovers.
//!
//! The moments are the lines of progress output of an uninterrupted run (the runner writes one
//! at each tenth of a stage's steps, at each stage's end and at each run's end), spread evenly:
//! kill k happens right after the attempt printed line ⌊k·(L−1)/19⌋, plus 0–9 ms, so the kills
//! land in start-up, tokenizer fitting, pretraining, downstream training, the rename of a stage
//! into place, the runs.csv merge and the summary.
//!
//! `cargo test --release --test it e2e::kill_resume -- --nocapture` prints where each kill
//! landed.

use crate::cli::command;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

const TINY: &str = "tests/fixtures/e2e/tiny.toml";
const KILLS: usize = 20;

fn args(out: &Path) -> Vec<String> {
    ["run", TINY, "--out", out.to_str().unwrap()]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// run_id → the metric columns of its row (status, error and timings left out); panics on
/// duplicate run ids.
fn metrics(out: &Path) -> std::collections::BTreeMap<String, Vec<(String, String)>> {
    let path = out.join("tiny/runs.csv");
    let mut r = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let mut rows = std::collections::BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let get = |c: &str| rec[h.iter().position(|x| x == c).unwrap()].to_string();
        assert_eq!(get("status"), "ok", "{rec:?}");
        let kept: Vec<(String, String)> = h
            .iter()
            .zip(rec.iter())
            .filter(|(c, _)| {
                c.starts_with("test_")
                    || c.starts_with("dev_")
                    || *c == "train_loss"
                    || *c == "pretrain_loss"
                    || c.starts_with("data.")
            })
            .map(|(c, v)| (c.clone(), v.to_string()))
            .collect();
        assert!(
            rows.insert(get("run_id"), kept).is_none(),
            "duplicate row in {}",
            path.display()
        );
    }
    rows
}

/// Folders left in `.stages` by an attempt that died: temporary stage outputs and periodic
/// checkpoints of unfinished stages.
fn leftovers(out: &Path) -> Vec<String> {
    std::fs::read_dir(out.join(".stages"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-") || n.ends_with(".partial"))
        .collect()
}

/// Spawns a run, reads its progress lines and SIGKILLs it right after line `after` (0: as soon
/// as it started) plus `jitter`. Returns the last line read and whether the kill landed before
/// the process finished on its own.
fn kill_after_line(out: &Path, after: usize, jitter: Duration) -> (String, bool) {
    let mut child = command()
        .args(args(out))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut last = String::from("(start-up)");
    for _ in 0..after {
        match lines.next() {
            Some(Ok(l)) => last = l,
            _ => break,
        }
    }
    std::thread::sleep(jitter);
    let killed = child.try_wait().unwrap().is_none();
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();
    (last, killed)
}

#[test]
fn killed_at_twenty_moments_then_rerun_gives_the_uninterrupted_results() {
    let started = Instant::now();
    let reference_dir = tempfile::tempdir().unwrap();
    let out = command().args(args(reference_dir.path())).output().unwrap();
    let progress = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{progress}");
    let reference = metrics(reference_dir.path());
    assert_eq!(
        reference.keys().collect::<Vec<_>>(),
        [
            "c001-s1", "c001-s2", "c002-s1", "c002-s2", "c003-s1", "c003-s2"
        ]
    );
    let total_lines = progress.lines().count();
    assert!(total_lines > 40, "{progress}");

    let mut landed = 0;
    println!("kill  after line  landed  last line read before the kill");
    for k in 0..KILLS {
        let dir = tempfile::tempdir().unwrap();
        let after = k * (total_lines - 1) / (KILLS - 1);
        let (last, killed) = kill_after_line(
            dir.path(),
            after,
            Duration::from_millis((k as u64 * 7) % 10),
        );
        landed += killed as usize;
        println!(
            "{:>4}  {after:>10}  {:>6}  {last}",
            k + 1,
            if killed { "yes" } else { "no" }
        );

        let rerun = command().args(args(dir.path())).output().unwrap();
        let err = String::from_utf8_lossy(&rerun.stderr);
        assert!(
            rerun.status.success(),
            "kill {} (after line {after}): rerun failed\n{err}",
            k + 1
        );
        assert!(!err.contains("panicked"), "{err}");
        assert_eq!(
            metrics(dir.path()),
            reference,
            "kill {} (after line {after}): results differ from an uninterrupted run",
            k + 1
        );
        assert_eq!(
            leftovers(dir.path()),
            Vec::<String>::new(),
            "kill {}",
            k + 1
        );
        let summary = std::fs::read_to_string(dir.path().join("tiny/summary.csv")).unwrap();
        assert_eq!(summary.lines().count(), 4, "kill {}: {summary}", k + 1);
    }
    println!(
        "{landed} of {KILLS} kills landed before the run finished; {:.1}s in all",
        started.elapsed().as_secs_f64()
    );
    // Kills after the last lines may come after the process exited; most must land mid-run.
    assert!(landed >= KILLS - 3, "only {landed} kills landed mid-run");
}

/// A pretraining killed after a periodic checkpoint continues from it; without dropout (whose
/// mask sequence restarts with a new session) the resumed stage is exactly the uninterrupted one.
#[test]
fn a_pretraining_resumed_from_its_checkpoint_matches_an_uninterrupted_one() {
    let sets = [
        "--set",
        "seeds=[1]",
        "--set",
        "encoder.dropout=0.0",
        "--set",
        "pretrain.A.steps=300",
    ];
    let run_args = |out: &Path| {
        let mut a = args(out);
        a.extend(sets.iter().map(|s| s.to_string()));
        a
    };
    let reference = tempfile::tempdir().unwrap();
    let o = command().args(run_args(reference.path())).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let dir = tempfile::tempdir().unwrap();
    let mut child = command()
        .args(run_args(dir.path()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let checkpointed = loop {
        let ck = std::fs::read_dir(dir.path().join(".stages"))
            .ok()
            .and_then(|rd| {
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
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();
    let o = command().args(run_args(dir.path())).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    if checkpointed {
        assert!(err.contains("resuming from step"), "{err}");
    }
    assert_eq!(metrics(dir.path()), metrics(reference.path()));
}
