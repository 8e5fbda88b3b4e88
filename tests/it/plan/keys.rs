//! Stage keys, pinned: the exact key of every stage of two small experiments, as the planner
//! computes them (nothing runs). A key names a stage's folder in the store, so a changed key
//! throws that stage's cache away. It may change only with what the stage computes (and then
//! `KEY_VERSION` or the key's material changes on purpose), never through a refactoring or a new
//! config field at its default (src/experiment/plan/keys.rs says how that is kept).
//!
//! Keys hold absolute data paths, so the fixtures are loaded as if they lay in [`DIR`] (planning
//! opens no data file), which gives the same keys in every checkout.
use embedlab::config::load_str;
use embedlab::experiment::{Plan, StageKind, plan};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where the fixtures are said to lie.
const DIR: &str = "/embedlab/tests/fixtures/e2e";

/// The plan of fixture files layered in order, read from tests/fixtures/e2e.
fn plan_of(files: &[&str]) -> Plan {
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/e2e");
    let files: Vec<(PathBuf, String)> = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(real.join(f)).unwrap();
            (Path::new(DIR).join(f), text)
        })
        .collect();
    plan(&load_str(&files, &[], &[]).unwrap_or_else(|e| panic!("{e}")))
}

/// Every stage as `label [runs]: key`, in plan order.
fn keys(plan: &Plan) -> Vec<String> {
    plan.stages
        .iter()
        .map(|s| format!("{} [{}]: {}", s.label, s.runs.join(" "), s.key))
        .collect()
}

fn assert_keys(plan: &Plan, expected: &[&str]) {
    let found = keys(plan);
    assert!(
        found == expected,
        "stage keys changed (every cached stage of these would be recomputed); now:\n{}",
        found
            .iter()
            .map(|k| format!("    \"{k}\",\n"))
            .collect::<String>()
    );
}

#[test]
fn tiny_keys_are_pinned() {
    assert_keys(
        &plan_of(&["tiny.toml"]),
        &[
            "tokenizer [c001-s1 c001-s2 c002-s1 c002-s2 c003-s1 c003-s2]: e51d2ccbf1cc993b",
            "pretrain.A [c002-s1 c002-s2 c003-s1 c003-s2]: 28da7d0bd48550d2",
            "downstream.C [c001-s1]: 3af9e42f11fcd27c",
            "downstream.C [c001-s2]: 4c25e2b96395a9f7",
            "downstream.C [c002-s1]: 6f8f3e7bf438dea0",
            "downstream.C [c002-s2]: de5d19fa7939c04c",
            "downstream.C [c003-s1]: c50f322af2b2a873",
            "downstream.C [c003-s2]: a95735223071aeb4",
        ],
    );
}

#[test]
fn every_stage_kind_has_pinned_keys() {
    let plan = plan_of(&["tiny.toml", "every_stage.toml"]);
    let kinds: BTreeSet<StageKind> = plan.stages.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            StageKind::Tokenizer,
            StageKind::Vectors,
            StageKind::Pretrain,
            StageKind::Downstream,
            StageKind::Baseline,
        ])
    );
    assert_keys(
        &plan,
        &[
            "tokenizer [c001-s1 c001-s2 c002-s1 c002-s2 c003-s1 c003-s2]: e51d2ccbf1cc993b",
            "vectors [c001-s1 c001-s2 c002-s1 c002-s2 c003-s1 c003-s2]: 46b60e13ce754c20",
            "pretrain.A [c001-s1 c001-s2 c002-s1 c002-s2 c003-s1 c003-s2]: 25403f1a90603e41",
            "pretrain.A > pretrain.B [c001-s1 c001-s2 c002-s1 c002-s2 c003-s1 c003-s2]: 5f3b76e0a7dabdd7",
            "downstream.C [c001-s1]: 0a6e109a47fc4b80",
            "downstream.P [c001-s1 c002-s1 c003-s1]: fcb74b2d95e2b800",
            "downstream.S [c001-s1 c002-s1 c003-s1]: 562450b59131f5bf",
            "downstream.T [c001-s1 c002-s1 c003-s1]: 86a3376bc2c6df9b",
            "downstream.C [c001-s2]: d49ca019526f9b91",
            "downstream.P [c001-s2 c002-s2 c003-s2]: 7817864bf72d1a90",
            "downstream.S [c001-s2 c002-s2 c003-s2]: 87881b871231e676",
            "downstream.T [c001-s2 c002-s2 c003-s2]: f6afd4ca077ff19a",
            "downstream.C [c002-s1]: 040d38c6ca1c535b",
            "downstream.C [c002-s2]: f543f0c7af67c70f",
            "downstream.C [c003-s1]: 79365f928e0bd83a",
            "downstream.C [c003-s2]: 6c46a1e6d26f74f1",
            "baseline.C [c004-s1 c004-s2]: d98c539c081bc075",
        ],
    );
}
