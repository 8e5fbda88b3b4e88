//! A fine-tuning stage killed with SIGKILL mid-training resumes from its periodic checkpoint
//! (parameters, optimizer state, position in the epoch order, best dev epoch, early-stopping
//! counter, curve points) and ends exactly where an uninterrupted run ends: the same runs.csv
//! metrics and the same curves.csv, to the last digit (dropout 0: dropout masks restart with a
//! new ONNX Runtime session).
//!
//! The moments: 60 epochs of 6 batches are 360 steps, checkpointed every 100 steps (at steps
//! 100 and 200 within an epoch, at 300 at an epoch's end). The test polls the stage's checkpoint
//! (`.stages/<key>.partial/resume.safetensors`, written atomically) and kills once it records
//! step 100 (the first checkpoint), 200 and 300 (near the end).

use crate::cli::command;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

const TINY: &str = "tests/fixtures/e2e/tiny.toml";
const EPOCHS: u64 = 60;
/// Steps of the uninterrupted fine-tuning (6 batches of 8 of the 48 training examples per epoch).
const STEPS: u64 = EPOCHS * 6;

fn args(over: &Path, out: &Path) -> Vec<String> {
    [
        "run",
        TINY,
        over.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// runs.csv as run_id → (column → value), without the columns that measure time or threads.
fn rows(out: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(out.join("tiny/runs.csv")).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|x| x.unwrap())
        .map(|x| {
            let row: BTreeMap<String, String> = h
                .iter()
                .cloned()
                .zip(x.iter().map(String::from))
                .filter(|(c, _)| {
                    !c.ends_with("seconds") && !c.ends_with("per_second") && c != "threads"
                })
                .collect();
            assert_eq!(row["status"], "ok", "{row:?}");
            (row["run_id"].clone(), row)
        })
        .collect()
}

/// Every committed stage's curves.csv, by stage key.
fn curves(out: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(out.join(".stages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("curves.csv").exists())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(p.join("curves.csv")).unwrap(),
            )
        })
        .collect()
}

/// The downstream stage's checkpoint, if one is on disk.
fn checkpoint(out: &Path) -> Option<PathBuf> {
    std::fs::read_dir(out.join(".stages"))
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("resume.safetensors"))
        .find(|p| p.exists())
}

/// The step a checkpoint has reached.
fn checkpoint_step(path: &Path) -> Option<u64> {
    let ck = embedlab::runtime::load_checkpoint(path).ok()?;
    ck.meta.get("step")?.as_u64()
}

/// Spawns the run and SIGKILLs it once its checkpoint has reached `step`. Returns the step the
/// kill followed, or `None` when the run ended first.
fn kill_at_step(over: &Path, out: &Path, step: u64) -> Option<u64> {
    let mut child = command()
        .args(args(over, out))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let reached = loop {
        if let Some(at) = checkpoint(out).and_then(|p| checkpoint_step(&p))
            && at >= step
        {
            break Some(at);
        }
        if child.try_wait().unwrap().is_some() || start.elapsed() > Duration::from_secs(300) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();
    reached
}

#[test]
fn a_fine_tuning_killed_at_three_moments_resumes_and_ends_as_an_uninterrupted_one() {
    let dir = tempfile::tempdir().unwrap();
    let over = dir.path().join("finetune.toml");
    std::fs::write(
        &over,
        format!(
            "seeds = [1]\n[encoder]\ndropout = 0.0\n[downstream.C]\nepochs = {EPOCHS}\n\
             [sweep]\n\"downstream.C.transfer\" = [\"finetune\"]\n"
        ),
    )
    .unwrap();
    let reference = dir.path().join("reference");
    let o = command().args(args(&over, &reference)).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        checkpoint(&reference).is_none(),
        "a committed stage keeps no checkpoint"
    );
    let (want_rows, want_curves) = (rows(&reference), curves(&reference));
    assert_eq!(want_rows.len(), 1);
    assert!(
        want_curves.values().any(|c| c.contains(",dev,accuracy,")),
        "{want_curves:?}"
    );

    for target in [100, 200, 300] {
        let out = dir.path().join(format!("killed-{target}"));
        let at = kill_at_step(&over, &out, target)
            .unwrap_or_else(|| panic!("the run ended before its checkpoint reached {target}"));
        let ck = checkpoint(&out).expect("the killed run left its checkpoint");
        let left = checkpoint_step(&ck).unwrap();
        assert!(left >= at && left < STEPS, "checkpoint at step {left}");

        let o = command().args(args(&over, &out)).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success(),
            "kill after step {at}: rerun failed\n{err}"
        );
        let resumed = format!("resuming from step {left} of {STEPS}, epoch ");
        assert!(
            err.contains(&resumed),
            "kill after step {at}: expected '{resumed}'\n{err}"
        );
        assert_eq!(rows(&out), want_rows, "kill after step {at}");
        assert_eq!(curves(&out), want_curves, "kill after step {at}");
        assert!(checkpoint(&out).is_none(), "kill after step {at}");
    }
}
