//! Eight shards started together on one results folder, on a grid of ten runs that share a
//! tokenizer and two pretrainings: every row once, each stage trained once (the stage folders
//! are counted, and the stages the shards say they ran add up to the plan's), and runs.csv and
//! summary.csv after `embedlab report` equal to a one-process run's.
use super::compare::{runs, stage_counts, stage_folders, table, temporaries};
use crate::cli::command;
use std::process::Stdio;

const TINY: &str = "tests/fixtures/e2e/tiny.toml";
const SHARDS: usize = 8;
/// 2 pretrainings x 3 transfers, where the two scratch cells are one (they use no pretraining):
/// 5 cells x 2 seeds = 10 runs; stages: 1 tokenizer, 2 pretrainings, 10 downstream.
const GRID: &str = "[sweep]\n\"downstream.C.transfer\" = [\"scratch\", \"frozen\", \"finetune\"]\n\"pretrain.A.steps\" = [10, 20]\n";
const STAGES: usize = 13;

fn args<'a>(grid: &'a str, out: &'a str) -> Vec<&'a str> {
    vec!["run", TINY, grid, "--out", out]
}

#[test]
fn eight_shards_at_once_lose_no_row_and_train_each_stage_once() {
    let dir = tempfile::tempdir().unwrap();
    let grid = dir.path().join("grid.toml");
    std::fs::write(&grid, GRID).unwrap();
    let grid = grid.to_str().unwrap();

    let single = dir.path().join("single");
    let o = command()
        .args(args(grid, single.to_str().unwrap()))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let reference = runs(&single);
    assert_eq!(reference.len(), 10);
    assert_eq!(stage_folders(&single).len(), STAGES);

    let sharded = dir.path().join("sharded");
    let out = sharded.to_str().unwrap();
    let children: Vec<_> = (1..=SHARDS)
        .map(|i| {
            let shard = format!("{i}/{SHARDS}");
            let mut a = args(grid, out);
            a.extend(["--shard", &shard]);
            command()
                .args(a)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut executed = 0;
    for (i, child) in children.into_iter().enumerate() {
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "shard {}: {err}", i + 1);
        executed += stage_counts(&err).0;
    }
    // A shared stage found complete is reused, so the stages executed add up to the plan's.
    assert_eq!(executed, STAGES, "stages executed by the {SHARDS} shards");
    assert_eq!(stage_folders(&sharded), stage_folders(&single));
    assert_eq!(temporaries(&sharded), Vec::<String>::new());

    let o = command()
        .args(["report", sharded.join("tiny").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(runs(&sharded), reference);
    assert_eq!(
        table(&sharded.join("tiny/summary.csv")),
        table(&single.join("tiny/summary.csv"))
    );
    let verify = command().args(["verify", out]).output().unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
}
