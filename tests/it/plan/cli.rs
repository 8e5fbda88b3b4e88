//! The real binary: exit codes (0 ok, 2 invalid input), messages on stderr, `plan` output,
//! layering through the process environment of a child process.

use crate::cli::embedlab_env as embedlab;
use std::path::Path;
use std::process::Output;

const QUICKSTART: &str = "experiments/quickstart.toml";

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn plan_json(args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let mut all = vec!["plan", QUICKSTART, "--json"];
    all.extend_from_slice(args);
    let out = embedlab(&all, env);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("plan --json is JSON")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn plan_prints_cells_stages_and_cost() {
    let out = embedlab(&["plan", QUICKSTART], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("experiment quickstart: 4 cells + 1 baseline cell x 3 seeds = 15 runs"),
        "{text}"
    );
    assert!(
        text.contains("c002  downstream.C.transfer = \"frozen\""),
        "{text}"
    );
    assert_eq!(text.matches("pretrain.A").count(), 1, "{text}");
    assert!(text.contains("estimated cost:"), "{text}");
}

#[test]
fn plan_json_has_runs_and_stages() {
    let plan = plan_json(&[], &[]);
    assert_eq!(plan["runs"].as_array().unwrap().len(), 15);
    assert_eq!(plan["cells"].as_array().unwrap().len(), 5);
    let kinds: Vec<&str> = plan["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "pretrain").count(), 1);
}

#[test]
fn environment_then_set_through_the_binary() {
    let depth =
        |plan: &serde_json::Value| plan["cells"][0]["experiment"]["encoder"]["depth"].as_u64();
    assert_eq!(depth(&plan_json(&[], &[])), Some(2));
    assert_eq!(
        depth(&plan_json(&[], &[("EMBEDLAB_ENCODER__DEPTH", "3")])),
        Some(3)
    );
    let both = plan_json(
        &["--set", "encoder.depth=4"],
        &[("EMBEDLAB_ENCODER__DEPTH", "3")],
    );
    assert_eq!(depth(&both), Some(4));
}

#[test]
fn invalid_input_exits_2_with_one_located_message() {
    let dir = tempfile::tempdir().unwrap();
    let quickstart = std::fs::read_to_string(QUICKSTART).unwrap();
    let bad = write(
        dir.path(),
        "bad.toml",
        &quickstart.replace("depth = 2", "depht = 2"),
    );
    for command in ["plan", "run"] {
        let out = embedlab(&[command, &bad], &[]);
        assert_eq!(out.status.code(), Some(2), "{command}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.starts_with(&format!("error: {bad}:")), "{err}");
        assert!(
            err.contains("encoder.depht: unknown key (did you mean 'depth'?)"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(stdout(&out).is_empty());
    }

    let out = embedlab(&["plan", QUICKSTART], &[("EMBEDLAB_ENCODR__DEPTH", "3")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("error: environment variable EMBEDLAB_ENCODR__DEPTH: encodr: unknown key (did you mean 'encoder'?)"), "{}", stderr(&out));

    let out = embedlab(&["plan", QUICKSTART, "--set", "downstream.C.layers=5"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "--set downstream.C.layers=5: downstream.C.layers: 5 exceeds encoder.depth = 2"
        ),
        "{}",
        stderr(&out)
    );

    let out = embedlab(&["plan", "no/such/file.toml"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).starts_with("error: no/such/file.toml: cannot read"),
        "{}",
        stderr(&out)
    );

    let out = embedlab(&["run", QUICKSTART, "--shard", "3/2"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    let out = embedlab(&["report", "no/such/results"], &[]);
    assert_eq!(out.status.code(), Some(2));

    let out = embedlab(&["frobnicate"], &[]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "clap usage errors are invalid input too"
    );
}

#[test]
fn several_files_merge_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let extra = write(
        dir.path(),
        "deeper.toml",
        "[encoder]\ndepth = 4\n\n[sweep]\n\"encoder.heads\" = [2, 4]\n",
    );
    let out = embedlab(&["plan", QUICKSTART, &extra], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("8 cells + 1 baseline cell x 3 seeds = 27 runs"),
        "{text}"
    );
    assert!(
        text.contains("cells (sweep: downstream.C.transfer, encoder.heads)"),
        "{text}"
    );
}

#[test]
fn schema_is_json() {
    let out = embedlab(&["schema"], &[]);
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(schema["properties"]["encoder"].is_object());
}

#[test]
fn plan_marks_cached_stages() {
    let plan = plan_json(&[], &[]);
    let tokenizer = plan["stages"][0]["key"].as_str().unwrap().to_string();
    let out = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(out.path().join(".stages").join(&tokenizer)).unwrap();
    let dir = out.path().to_string_lossy().into_owned();
    let cached = plan_json(&["--out", &dir], &[]);
    assert_eq!(cached["stages"][0]["cached"], serde_json::Value::Bool(true));
    assert_eq!(
        cached["stages"][1]["cached"],
        serde_json::Value::Bool(false)
    );
    let text = stdout(&embedlab(&["plan", QUICKSTART, "--out", &dir], &[]));
    assert!(
        text.contains(&format!("{tokenizer}  tokenizer")) && text.contains("cached"),
        "{text}"
    );
    assert!(text.contains("(1 stage cached)"), "{text}");
}

/// Static word vectors are a stage of their own: `plan` lists it with its key and cost, and every
/// pretraining and downstream stage that uses them names it as a parent.
#[test]
fn plan_lists_static_vectors_as_a_stage_with_key_and_cost() {
    let plan = plan_json(&["--set", "embeddings.word=\"static\""], &[]);
    let stages = plan["stages"].as_array().unwrap();
    let vectors: Vec<&serde_json::Value> =
        stages.iter().filter(|s| s["kind"] == "vectors").collect();
    assert_eq!(vectors.len(), 1, "{stages:?}");
    let key = vectors[0]["key"].as_str().unwrap();
    assert_eq!(key.len(), 16);
    assert!(vectors[0]["estimate"]["seconds"].as_f64().unwrap() > 0.0);
    for s in stages
        .iter()
        .filter(|s| s["kind"] == "pretrain" || s["kind"] == "downstream")
    {
        let parents: Vec<&str> = s["parents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert!(parents.contains(&key), "{s}");
    }
    let text = embedlab(
        &["plan", QUICKSTART, "--set", "embeddings.word=\"static\""],
        &[],
    );
    assert!(
        stdout(&text)
            .lines()
            .any(|l| l.contains(key) && l.contains("vectors")),
        "{}",
        stdout(&text)
    );
    // Without static vectors there is no such stage.
    let plain = plan_json(&["--set", "embeddings.word=\"learned\""], &[]);
    assert!(
        plain["stages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["kind"] != "vectors")
    );
}
