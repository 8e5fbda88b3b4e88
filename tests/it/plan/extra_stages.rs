//! What `embedlab plan` shows of the stages an option adds: the bag-of-words baseline
//! (`baseline = true`: a cell and a stage of its own, one for every seed) and replicated
//! pretraining (`replicate = true`: one pretraining per seed, and what that costs).
use crate::cli::embedlab_env as embedlab;

const TINY: &str = "tests/fixtures/e2e/tiny.toml";

fn plan(sets: &[&str], json: bool) -> String {
    let mut args = vec!["plan", TINY];
    if json {
        args.push("--json");
    }
    for s in sets {
        args.extend(["--set", s]);
    }
    let out = embedlab(&args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn plan_json(sets: &[&str]) -> serde_json::Value {
    serde_json::from_str(&plan(sets, true)).unwrap()
}

fn stages_of<'a>(plan: &'a serde_json::Value, kind: &str) -> Vec<&'a serde_json::Value> {
    plan["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["kind"] == kind)
        .collect()
}

#[test]
fn baseline_is_a_cell_and_a_stage_shared_by_its_seeds() {
    let with = plan_json(&["downstream.C.baseline=true"]);
    let without = plan_json(&[]);
    // Three model cells and one baseline cell after them, with a run per seed.
    let cells = with["cells"].as_array().unwrap();
    assert_eq!(cells.len(), 4);
    assert_eq!(cells[3]["id"], "c004");
    assert_eq!(cells[3]["kind"]["baseline"]["downstream"], "C");
    assert_eq!(cells[3]["axes"][0]["value"], "bow");
    let runs: Vec<&str> = with["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(&runs[6..], ["c004-s1", "c004-s2"]);
    // One stage for both seeds, reading no other stage.
    let baseline = stages_of(&with, "baseline");
    assert_eq!(baseline.len(), 1);
    assert_eq!(
        baseline[0]["runs"],
        serde_json::json!(["c004-s1", "c004-s2"])
    );
    assert_eq!(baseline[0]["parents"], serde_json::json!([]));
    assert!(baseline[0]["estimate"]["seconds"].as_f64().unwrap() > 0.0);
    // `baseline` is in no other stage's key: the model's stages keep their cache.
    let keys = |p: &serde_json::Value| -> Vec<String> {
        p["stages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["kind"] != "baseline")
            .map(|s| s["key"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(keys(&with), keys(&without));
    assert!(stages_of(&without, "baseline").is_empty());
    // Its key depends on the data, not on the seeds or the encoder.
    let other_seeds = plan_json(&[
        "downstream.C.baseline=true",
        "seeds=[5, 6, 7]",
        "encoder.depth=1",
    ]);
    assert_eq!(
        stages_of(&other_seeds, "baseline")[0]["key"],
        baseline[0]["key"]
    );
    let other_data = plan_json(&[
        "downstream.C.baseline=true",
        "dataset.words.filter={ max_train = 20 }",
    ]);
    assert_ne!(
        stages_of(&other_data, "baseline")[0]["key"],
        baseline[0]["key"]
    );

    let text = plan(&["downstream.C.baseline=true"], false);
    assert!(
        text.contains("experiment tiny: 3 cells + 1 baseline cell x 2 seeds = 8 runs"),
        "{text}"
    );
    assert!(
        text.contains("c004  bag-of-words baseline of downstream.C"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.contains("baseline.C") && l.ends_with("c004-s1 c004-s2")),
        "{text}"
    );
}

#[test]
fn replicated_pretraining_shows_its_extra_stages_and_their_cost() {
    let shared = plan(&[], false);
    assert!(!shared.contains("replicate:"), "{shared}");
    let replicated = plan(&["pretrain.A.replicate=true", "seeds=[1, 2, 3]"], false);
    let line = replicated
        .lines()
        .find(|l| l.starts_with("replicate:"))
        .unwrap_or_else(|| panic!("{replicated}"));
    assert!(
        line.starts_with(
            "replicate: pretrain.A trains once per seed: 3 pretrainings instead of 1, an estimated +"
        ),
        "{line}"
    );
    // Three pretraining stages in the table, and the extra time is two of them.
    let json = plan_json(&["pretrain.A.replicate=true", "seeds=[1, 2, 3]"]);
    let pretrain = stages_of(&json, "pretrain");
    assert_eq!(pretrain.len(), 3);
    let r = &json["replicated"][0];
    assert_eq!(
        (r["stages"].as_u64(), r["without"].as_u64()),
        (Some(3), Some(1))
    );
    let one = pretrain[0]["estimate"]["seconds"].as_f64().unwrap();
    assert!((r["extra_seconds"].as_f64().unwrap() - 2.0 * one).abs() < 1e-9);
}
