//! Planning: cells, deduplication, runs, shared stages and their keys.

use embedlab::config::{LoadOptions, load_str};
use embedlab::experiment::{Plan, StageConfig, StageKind, plan, plan_files};
use std::path::PathBuf;

fn quickstart() -> Plan {
    let options = LoadOptions {
        files: vec!["experiments/quickstart.toml".into()],
        ..LoadOptions::default()
    };
    plan_files(&options).unwrap_or_else(|e| panic!("{e}"))
}

fn plan_text(text: &str, sets: &[&str]) -> Plan {
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let loaded = load_str(&[(PathBuf::from("x.toml"), text.to_string())], &sets, &[])
        .unwrap_or_else(|e| panic!("{e}"));
    plan(&loaded)
}

/// Stage keys depend on absolute data paths; replace them for snapshots.
fn redact_keys(plan: &Plan, text: &str) -> String {
    let mut out = text.to_string();
    for (i, s) in plan.stages.iter().enumerate() {
        out = out.replace(&s.key, &format!("<key {:>2}>        ", i + 1));
    }
    out
}

fn count(plan: &Plan, kind: StageKind) -> usize {
    plan.stages.iter().filter(|s| s.kind == kind).count()
}

#[test]
fn quickstart_has_fifteen_runs_and_one_pretraining() {
    let plan = quickstart();
    assert_eq!(plan.experiment_name, "quickstart");
    // scratch, frozen, finetune, lp-ft and the bag-of-words baseline.
    assert_eq!(plan.cells.len(), 5);
    assert_eq!(plan.runs.len(), 15);
    let ids: Vec<&str> = plan.runs.iter().map(|r| r.run_id.as_str()).collect();
    assert_eq!(&ids[..4], ["c001-s1", "c001-s2", "c001-s3", "c002-s1"]);
    assert_eq!(ids[14], "c005-s3");
    assert_eq!(count(&plan, StageKind::Tokenizer), 1);
    assert_eq!(
        count(&plan, StageKind::Pretrain),
        1,
        "one pretraining serves frozen, finetune and lp-ft runs"
    );
    assert_eq!(count(&plan, StageKind::Downstream), 12);
    assert_eq!(count(&plan, StageKind::Baseline), 1);
    let pretrain = plan
        .stages
        .iter()
        .find(|s| s.kind == StageKind::Pretrain)
        .unwrap();
    assert_eq!(
        pretrain.runs,
        [
            "c002-s1", "c002-s2", "c002-s3", "c003-s1", "c003-s2", "c003-s3", "c004-s1", "c004-s2",
            "c004-s3"
        ]
    );
    // Scratch runs do not need the pretraining.
    assert!(!plan.runs[0].stages.contains(&pretrain.key));
    assert!(plan.runs[3].stages.contains(&pretrain.key));
}

#[test]
fn stages_are_topologically_ordered_and_unique() {
    let plan = quickstart();
    let mut seen = std::collections::HashSet::new();
    for s in &plan.stages {
        assert!(
            s.parents.iter().all(|p| seen.contains(p)),
            "{} before its parents",
            s.label
        );
        assert!(seen.insert(s.key.clone()), "{} twice", s.key);
        assert_eq!(s.key.len(), 16);
    }
    for run in &plan.runs {
        let positions: Vec<usize> = run
            .stages
            .iter()
            .map(|k| plan.stages.iter().position(|s| &s.key == k).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]) || run.stages.len() == 1);
    }
}

#[test]
fn quickstart_plan_text() {
    let plan = quickstart();
    insta::assert_snapshot!("quickstart_plan", redact_keys(&plan, &plan.render_text()));
}

const BASE: &str = r#"
name = "dedup"
seeds = [1, 2, 3]

[corpus.text]
path = "text.txt"

[dataset.topics]
path = "topics.tsv"

[tokenizer]
fit_on = ["text"]

[pretrain.A]
data = "text"
steps = 100

[downstream.C]
data = "topics"
from = "A"
"#;

#[test]
fn scratch_cells_collapse_across_pretraining_variants() {
    let text = format!(
        "{BASE}\n[sweep]\n\"pretrain.A.steps\" = [100, 200]\n\"downstream.C.transfer\" = [\"scratch\", \"frozen\", \"finetune\"]\n\"downstream.C.layers\" = [\"all\", 1]\n"
    );
    let plan = plan_text(&text, &[]);
    assert_eq!(plan.grid_points, 12);
    // scratch ignores steps and layers: 4 grid points become 1 cell; frozen/finetune keep 2 x 2 each.
    assert_eq!(plan.cells.len(), 1 + 4 + 4);
    let scratch = &plan.cells[0];
    assert_eq!(scratch.merged.len(), 3);
    assert!(
        scratch.experiment.downstream["C"].from.is_none(),
        "normalised to from = none"
    );
    assert_eq!(plan.runs.len(), 9 * 3);
    assert_eq!(
        count(&plan, StageKind::Pretrain),
        2,
        "one per steps value, shared by transfer and layers"
    );
    assert_eq!(count(&plan, StageKind::Downstream), 9 * 3);
}

#[test]
fn keys_follow_what_determines_the_output() {
    let plan = plan_text(BASE, &[]);
    let pretrain: Vec<_> = plan
        .stages
        .iter()
        .filter(|s| s.kind == StageKind::Pretrain)
        .collect();
    assert_eq!(
        pretrain.len(),
        1,
        "pretraining keeps its own seed across run seeds"
    );
    let downstream: Vec<_> = plan
        .stages
        .iter()
        .filter(|s| s.kind == StageKind::Downstream)
        .collect();
    assert_eq!(downstream.len(), 3, "one downstream stage per run seed");
    for d in &downstream {
        assert_eq!(
            d.parents,
            [plan.stages[0].key.clone(), pretrain[0].key.clone()]
        );
    }

    // Renaming stages and data keeps every key.
    let renamed = BASE
        .replace("corpus.text", "corpus.bible")
        .replace("[\"text\"]", "[\"bible\"]")
        .replace("data = \"text\"", "data = \"bible\"")
        .replace("pretrain.A", "pretrain.P")
        .replace("from = \"A\"", "from = \"P\"");
    let keys = |p: &Plan| p.stages.iter().map(|s| s.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&plan_text(&renamed, &[])), keys(&plan));

    // An encoder change reaches every stage but the tokenizer.
    let deeper = plan_text(BASE, &["encoder.depth=3"]);
    assert_eq!(deeper.stages[0].key, plan.stages[0].key);
    assert!(
        deeper.stages[1..]
            .iter()
            .all(|s| !keys(&plan).contains(&s.key))
    );

    // A tokenizer change reaches everything.
    let vocab = plan_text(BASE, &["tokenizer.vocab_size=100"]);
    assert!(vocab.stages.iter().all(|s| !keys(&plan).contains(&s.key)));

    // A downstream change leaves pretraining alone.
    let epochs = plan_text(BASE, &["downstream.C.epochs=9"]);
    assert_eq!(epochs.stages[1].key, plan.stages[1].key);
    assert_ne!(epochs.stages[2].key, plan.stages[2].key);

    // replicate = true pretrains once per run seed.
    let replicated = plan_text(BASE, &["pretrain.A.replicate=true"]);
    assert_eq!(count(&replicated, StageKind::Pretrain), 3);
}

#[test]
fn chains_and_shared_prefixes() {
    let text = format!(
        "{BASE}\n[pretrain.B]\ndata = \"text\"\ntask = \"clm\"\n\n[downstream.D]\ndata = \"topics\"\nfrom = [\"A\", \"B\"]\npooling = \"last\"\n"
    );
    let plan = plan_text(&text, &["seeds=[1]"]);
    let pretrain: Vec<_> = plan
        .stages
        .iter()
        .filter(|s| s.kind == StageKind::Pretrain)
        .collect();
    assert_eq!(pretrain.len(), 2, "A is shared by C and the chain A > B");
    assert_eq!(pretrain[0].label, "pretrain.A");
    assert_eq!(pretrain[1].label, "pretrain.A > pretrain.B");
    assert_eq!(
        pretrain[1].parents,
        [plan.stages[0].key.clone(), pretrain[0].key.clone()]
    );
    match &pretrain[1].config {
        StageConfig::Pretrain { previous, .. } => {
            assert_eq!(previous.as_deref(), Some(pretrain[0].key.as_str()))
        }
        other => panic!("not a pretrain config: {other:?}"),
    }
    assert_eq!(plan.runs[0].downstream.len(), 2);
    let run_keys = &plan.runs[0].stages;
    assert_eq!(
        run_keys.len(),
        5,
        "tokenizer, A, C, A > B, D: A listed once"
    );
    assert!(plan.estimated_seconds > 0.0);
}
