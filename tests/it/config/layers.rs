//! Parsing and layering: defaults < files (in order) < EMBEDLAB_* environment < --set, the custom
//! `from`/`layers` forms, relative path resolution. The environment is passed in explicitly, so
//! these tests never touch the process environment and cannot race.

use embedlab::config::{
    Experiment, Layers, LoadOptions, Loaded, StageRef, Transfer, json_schema, load, load_str,
};
use std::path::{Path, PathBuf};

const BASE: &str = r#"
[corpus.text]
path = "text.txt"

[dataset.topics]
path = "data/topics.tsv"
text_pair = "hypothesis"

[tokenizer]
fit_on = ["text"]

[pretrain.A]
data = "text"

[downstream.C]
data = "topics"
from = "A"
"#;

fn load_layers(files: &[(&str, &str)], sets: &[&str], env: &[(&str, &str)]) -> Loaded {
    let files: Vec<(PathBuf, String)> = files
        .iter()
        .map(|(p, t)| (PathBuf::from(p), t.to_string()))
        .collect();
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    match load_str(&files, &sets, &env) {
        Ok(l) => l,
        Err(e) => panic!("unexpected error: {e}"),
    }
}

fn single(files: &[(&str, &str)], sets: &[&str], env: &[(&str, &str)]) -> Experiment {
    let loaded = load_layers(files, sets, env);
    assert_eq!(loaded.points.len(), 1);
    loaded.points[0].experiment.clone()
}

#[test]
fn quickstart_parses() {
    let loaded = load(&LoadOptions {
        files: vec!["experiments/quickstart.toml".into()],
        ..LoadOptions::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let exp = &loaded.base;
    assert_eq!(exp.name, "quickstart");
    assert_eq!(exp.seeds, vec![1, 2, 3]);
    assert_eq!(exp.tokenizer.vocab_size, 4000);
    assert_eq!(exp.encoder.ffn, 128);
    assert_eq!(exp.pretrain["A"].steps, 3000);
    assert_eq!(exp.pretrain["A"].optimizer.lr, 3e-3);
    assert_eq!(exp.pretrain["A"].pack, embedlab::config::Pack::default());
    assert_eq!(exp.pretrain["A"].dropout, Some(0.0));
    assert_eq!(exp.downstream["C"].from, StageRef(vec!["A".into()]));
    assert_eq!(loaded.axes, vec!["downstream.C.transfer"]);
    assert_eq!(loaded.points.len(), 4);
    let kjv = &exp.corpus["wordnet"].path;
    assert!(
        kjv.is_absolute() && kjv.ends_with("data/wordnet/glosses.txt.gz"),
        "{}",
        kjv.display()
    );
    assert!(!kjv.to_string_lossy().contains(".."), "{}", kjv.display());
}

#[test]
fn defaults_fill_everything_else() {
    let exp = single(&[("dir/exp.toml", BASE)], &[], &[]);
    assert_eq!(exp.name, "exp", "name defaults to the file stem");
    assert_eq!(exp.seeds, vec![1]);
    assert_eq!(exp.encoder.depth, 2);
    assert_eq!(exp.encoder.d_model, 128);
    assert_eq!(exp.encoder.heads, 2);
    assert_eq!(exp.encoder.ffn, 512);
    assert_eq!(exp.encoder.max_len, 128);
    assert_eq!(exp.pretrain["A"].batch_size, 32);
    assert_eq!(exp.pretrain["A"].mask_prob, 0.15);
    assert_eq!(exp.downstream["C"].transfer, Transfer::Finetune);
    assert_eq!(exp.downstream["C"].layers, Layers::All);
    assert_eq!(exp.threads, None);
}

#[test]
fn precedence_file_then_env_then_set() {
    let first = ("a.toml", BASE);
    let second = ("b.toml", "[encoder]\ndepth = 3\nffn = 64\n");
    let third = ("c.toml", "[encoder]\ndepth = 4\n");

    assert_eq!(single(&[first], &[], &[]).encoder.depth, 2);
    let exp = single(&[first, second], &[], &[]);
    assert_eq!((exp.encoder.depth, exp.encoder.ffn), (3, 64));
    let exp = single(&[first, second, third], &[], &[]);
    assert_eq!(
        (exp.encoder.depth, exp.encoder.ffn),
        (4, 64),
        "later files override, tables merge"
    );

    let env = [
        ("EMBEDLAB_ENCODER__DEPTH", "5"),
        ("EMBEDLAB_PRETRAIN__A__STEPS", "7"),
        ("OTHER", "x"),
    ];
    let exp = single(&[first, second], &[], &env);
    assert_eq!(exp.encoder.depth, 5, "environment overrides files");
    assert_eq!(exp.pretrain["A"].steps, 7, "stage names keep their case");
    assert_eq!(exp.encoder.ffn, 64);

    let exp = single(&[first, second], &["encoder.depth=6"], &env);
    assert_eq!(exp.encoder.depth, 6, "--set overrides the environment");
    let exp = single(&[first], &["encoder.depth=6", "encoder.depth=1"], &[]);
    assert_eq!(exp.encoder.depth, 1, "later --set wins");
}

#[test]
fn set_values_are_toml_or_strings() {
    let exp = single(
        &[("a.toml", BASE)],
        &[
            "downstream.C.transfer=frozen",
            "downstream.C.layers=1",
            "seeds=[3, 4]",
            "pretrain.A.optimizer={ lr = 0.01, kind = \"sgd\" }",
            "encoder.dropout = 0.25",
        ],
        &[],
    );
    let c = &exp.downstream["C"];
    assert_eq!((c.transfer, c.layers), (Transfer::Frozen, Layers::First(1)));
    assert_eq!(exp.seeds, vec![3, 4]);
    assert_eq!(exp.pretrain["A"].optimizer.lr, 0.01);
    assert_eq!(exp.encoder.dropout, 0.25);
}

#[test]
fn from_and_layers_forms() {
    let text = BASE.replace(
        "from = \"A\"",
        "from = [\"A\", \"B\"]\nlayers = 1\npooling = \"last\"",
    ) + "\n[pretrain.B]\ndata = \"text\"\ntask = \"clm\"\n";
    let exp = single(&[("a.toml", &text)], &[], &[]);
    assert_eq!(
        exp.downstream["C"].from,
        StageRef(vec!["A".into(), "B".into()])
    );
    assert_eq!(exp.downstream["C"].layers, Layers::First(1));

    let text = BASE.replace("from = \"A\"", "from = \"none\"\ntransfer = \"scratch\"");
    let exp = single(&[("a.toml", &text)], &[], &[]);
    assert!(exp.downstream["C"].from.is_none());
}

#[test]
fn relative_paths_resolve_against_the_defining_file() {
    let cwd = std::env::current_dir().unwrap();
    let other = "[dataset.topics]\npath = \"../shared/topics.tsv\"\n";
    let exp = single(
        &[("exp/a.toml", BASE), ("exp/more/b.toml", other)],
        &[],
        &[],
    );
    assert_eq!(exp.corpus["text"].path, cwd.join("exp/text.txt"));
    assert_eq!(
        exp.dataset["topics"].path,
        Some(cwd.join("exp/shared/topics.tsv"))
    );
    // Keys set by `--set` resolve against the current directory.
    let exp = single(
        &[("exp/a.toml", BASE)],
        &["corpus.text.path=\"x/t.txt\""],
        &[],
    );
    assert_eq!(exp.corpus["text"].path, cwd.join("x/t.txt"));
    // Absolute paths stay as they are.
    let exp = single(
        &[("exp/a.toml", BASE)],
        &["corpus.text.path=\"/abs/t.txt\""],
        &[],
    );
    assert_eq!(exp.corpus["text"].path, Path::new("/abs/t.txt"));
}

#[test]
fn sweep_expands_in_file_order_first_axis_slowest() {
    let text = format!(
        "{BASE}\n[sweep]\n\"encoder.depth\" = [1, 2]\n\"downstream.C.transfer\" = [\"frozen\", \"finetune\"]\n"
    );
    let loaded = load_layers(&[("a.toml", &text)], &[], &[]);
    assert_eq!(
        loaded.axes,
        vec!["encoder.depth", "downstream.C.transfer"],
        "file order, not alphabetical"
    );
    let points: Vec<(usize, Transfer)> = loaded
        .points
        .iter()
        .map(|p| {
            (
                p.experiment.encoder.depth,
                p.experiment.downstream["C"].transfer,
            )
        })
        .collect();
    assert_eq!(
        points,
        vec![
            (1, Transfer::Frozen),
            (1, Transfer::Finetune),
            (2, Transfer::Frozen),
            (2, Transfer::Finetune)
        ]
    );
    assert!(loaded.points.iter().all(|p| p.experiment.sweep.is_empty()));
}

#[test]
fn schema_lists_sections_and_forbids_unknown_keys() {
    let schema = json_schema();
    let props = &schema["properties"];
    for key in [
        "name",
        "seeds",
        "corpus",
        "dataset",
        "tokenizer",
        "embeddings",
        "encoder",
        "pretrain",
        "downstream",
        "sweep",
        "device",
        "threads",
    ] {
        assert!(props.get(key).is_some(), "schema lacks {key}");
    }
    assert_eq!(
        schema["additionalProperties"],
        serde_json::Value::Bool(false)
    );
}

#[test]
fn resolved_config_round_trips_through_toml() {
    let text = BASE.replace(
        "from = \"A\"",
        "from = \"A\"\nlayers = 1\ntransfer = \"frozen\"",
    );
    let exp = single(
        &[("exp/a.toml", &text)],
        &["threads=2", "pretrain.A.optimizer.lr=1e-3"],
        &[],
    );
    let written = exp.to_toml().unwrap_or_else(|e| panic!("{e}"));
    let again = single(&[("elsewhere/config.toml", &written)], &[], &[]);
    assert_eq!(again, exp, "{written}");
}

#[test]
fn doubtful_settings_are_warnings() {
    let text = format!("{BASE}\n[embeddings]\nsegment = true\n\n[pretrain.Z]\ndata = \"text\"\n");
    let loaded = load_layers(&[("w.toml", &text)], &[], &[]);
    assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    assert!(
        loaded.warnings[0].starts_with("w.toml:20:1: embeddings.segment: "),
        "{:?}",
        loaded.warnings
    );
    assert!(
        loaded.warnings[1].contains("pretrain.Z: no downstream stage starts from it"),
        "{:?}",
        loaded.warnings
    );
    assert!(
        load_layers(&[("w.toml", BASE)], &[], &[])
            .warnings
            .is_empty()
    );
}

#[test]
fn swept_paths_resolve_against_the_file_of_the_sweep() {
    let cwd = std::env::current_dir().unwrap();
    let text = format!("{BASE}\n[sweep]\n\"corpus.text.path\" = [\"a.txt\", \"/abs/b.txt\"]\n");
    let loaded = load_layers(&[("exp/s.toml", &text)], &[], &[]);
    let paths: Vec<PathBuf> = loaded
        .points
        .iter()
        .map(|p| p.experiment.corpus["text"].path.clone())
        .collect();
    assert_eq!(paths, [cwd.join("exp/a.txt"), PathBuf::from("/abs/b.txt")]);
}
