//! Verified stages: the corruption catalogue of issue 19. A results folder of the tiny grid (one
//! seed: a tokenizer, a pretraining and three downstream stages) is damaged in one way per case;
//! `embedlab verify` names the stage and the file and exits 1; a rerun that needs the stage
//! reports it on one line, moves it aside and computes it again (the stages that read it are
//! removed too, so they must read the recomputed files), and runs.csv ends equal to the
//! undamaged run's.
use super::compare::{copy_dir, runs, stage_counts, stage_folders};
use crate::cli::command;
use std::path::{Path, PathBuf};

const TINY: &str = "tests/fixtures/e2e/tiny.toml";

fn run(out: &Path) -> (bool, String) {
    let o = command()
        .args([
            "run",
            TINY,
            "--out",
            out.to_str().unwrap(),
            "--set",
            "seeds=[1]",
        ])
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn verify(dir: &Path) -> (i32, String) {
    let o = command()
        .args(["verify", dir.to_str().unwrap()])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    (o.status.code().unwrap_or(-1), text)
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Tokenizer,
    Pretrain,
    Downstream,
}

/// The stage folders of `out`, by kind (told apart by their files).
fn stages_of(out: &Path, kind: Kind) -> Vec<PathBuf> {
    stage_folders(out)
        .into_iter()
        .map(|k| out.join(".stages").join(k))
        .filter(|d| {
            let has = |f: &str| d.join(f).exists();
            let k = if has("labels.json") {
                Kind::Downstream
            } else if has("params.safetensors") {
                Kind::Pretrain
            } else {
                Kind::Tokenizer
            };
            k == kind
        })
        .collect()
}

type Harm = fn(&Path);

struct Case {
    name: &'static str,
    kind: Kind,
    file: &'static str,
    harm: Harm,
}

const CASES: [Case; 5] = [
    Case {
        name: "truncated params.safetensors",
        kind: Kind::Pretrain,
        file: "params.safetensors",
        harm: |p| {
            let bytes = std::fs::read(p).unwrap();
            std::fs::write(p, &bytes[..bytes.len() / 2]).unwrap();
        },
    },
    Case {
        name: "one flipped byte in params.safetensors",
        kind: Kind::Pretrain,
        file: "params.safetensors",
        harm: |p| {
            let mut bytes = std::fs::read(p).unwrap();
            let i = bytes.len() - 100; // in the tensor data, past the header
            bytes[i] ^= 0xff;
            std::fs::write(p, &bytes).unwrap();
        },
    },
    Case {
        name: "missing tokenizer.json",
        kind: Kind::Tokenizer,
        file: "tokenizer.json",
        harm: |p| std::fs::remove_file(p).unwrap(),
    },
    Case {
        name: "empty metrics.json",
        kind: Kind::Downstream,
        file: "metrics.json",
        harm: |p| std::fs::write(p, b"").unwrap(),
    },
    Case {
        name: "a manifest listing a file that is not there",
        kind: Kind::Downstream,
        file: "extra.bin",
        harm: |p| {
            let manifest = p.parent().unwrap().join("manifest.json");
            let mut m: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
            m["files"].as_array_mut().unwrap().push(serde_json::json!({
                "path": "extra.bin", "size": 3,
                "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
            }));
            std::fs::write(&manifest, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
        },
    },
];

#[test]
fn damaged_stages_are_found_never_loaded_and_computed_again() {
    let base = tempfile::tempdir().unwrap();
    let (ok, err) = run(base.path());
    assert!(ok, "{err}");
    let reference = runs(base.path());
    assert_eq!(reference.len(), 3);
    let (code, text) = verify(base.path());
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("5 stages checked, 0 damaged; 3 runs checked in 1 experiment(s), 0 damaged"),
        "{text}"
    );

    for case in &CASES {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        copy_dir(base.path(), out);
        let stage = stages_of(out, case.kind).remove(0);
        let key = stage.file_name().unwrap().to_string_lossy().into_owned();
        (case.harm)(&stage.join(case.file));

        // verify: the stage and the file, the runs that used it; exit status 1.
        let (code, text) = verify(out);
        assert_eq!(code, 1, "{}: {text}", case.name);
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("damaged stage {key}:")))
            .unwrap_or_else(|| panic!("{}: no line for stage {key}\n{text}", case.name));
        assert!(line.contains(case.file), "{}: {line}", case.name);
        assert!(
            text.contains(&format!("its stage {key} is damaged")),
            "{}: {text}",
            case.name
        );
        // The same on one experiment's folder.
        assert_eq!(verify(&out.join("tiny")).0, 1, "{}", case.name);

        // The runs go again (a new grid sharing the stages); every stage downstream of the
        // damaged one is removed too, so that it has to read the recomputed files.
        std::fs::remove_dir_all(out.join("tiny")).unwrap();
        let children: Vec<PathBuf> = match case.kind {
            Kind::Tokenizer => [Kind::Pretrain, Kind::Downstream]
                .iter()
                .flat_map(|k| stages_of(out, *k))
                .collect(),
            Kind::Pretrain => stages_of(out, Kind::Downstream),
            Kind::Downstream => Vec::new(),
        };
        for c in &children {
            std::fs::remove_dir_all(c).unwrap();
        }
        let (ok, err) = run(out);
        assert!(ok, "{}: {err}", case.name);
        let reports: Vec<&str> = err.lines().filter(|l| l.contains("is damaged")).collect();
        assert_eq!(reports.len(), 1, "{}: {err}", case.name);
        assert!(
            reports[0].starts_with(&format!("stage {key} is damaged, not used: "))
                && reports[0].contains(case.file)
                && reports[0].contains("computing it again"),
            "{}: {}",
            case.name,
            reports[0]
        );
        assert_eq!(
            stage_counts(&err),
            (1 + children.len(), 4 - children.len()),
            "{}: {err}",
            case.name
        );
        let aside: Vec<_> = std::fs::read_dir(out.join(".damaged")).unwrap().collect();
        assert_eq!(aside.len(), 1, "{}", case.name);
        assert_eq!(runs(out), reference, "{}", case.name);
        let (code, text) = verify(out);
        assert_eq!(code, 0, "{}: after the rerun\n{text}", case.name);
    }
}

#[test]
fn verify_rejects_a_folder_that_holds_no_results() {
    let dir = tempfile::tempdir().unwrap();
    let (code, text) = verify(dir.path());
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("not a results folder"), "{text}");
}

#[test]
fn verify_finds_a_run_whose_metrics_disagree_with_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, err) = run(dir.path());
    assert!(ok, "{err}");
    let metrics = dir.path().join("tiny/runs/c002-s1/metrics.json");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&metrics).unwrap()).unwrap();
    m["test_accuracy"] = serde_json::json!(0.123);
    std::fs::write(&metrics, serde_json::to_vec(&m).unwrap()).unwrap();
    std::fs::remove_file(dir.path().join("tiny/runs/c003-s1/config.toml")).unwrap();
    let (code, text) = verify(dir.path());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("damaged run tiny/c002-s1: runs/c002-s1/metrics.json: test_accuracy = 0.123"),
        "{text}"
    );
    assert!(
        text.contains("damaged run tiny/c003-s1: runs/c003-s1/config.toml is missing"),
        "{text}"
    );
    assert!(
        text.contains("0 damaged; 3 runs checked in 1 experiment(s), 2 damaged"),
        "{text}"
    );
}
