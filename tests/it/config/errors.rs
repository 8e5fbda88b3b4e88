//! Config errors as a table: a change to a small valid experiment in, the one-line message out.
//! Each case checks the parts that matter (file:line, key path, hint); the whole table is also an
//! insta snapshot, since a person reads these messages.

use embedlab::config::load_str;

const BASE: &str = r#"name = "x"

[corpus.text]
path = "text.txt"

[dataset.topics]
path = "topics.tsv"

[tokenizer]
fit_on = ["text"]

[encoder]
depth = 2
d_model = 128
heads = 2

[pretrain.A]
data = "text"
steps = 10

[downstream.C]
data = "topics"
from = "A"
transfer = "finetune"
"#;

/// (case name, text to replace in BASE, replacement, substrings the message must contain).
const CASES: &[(&str, &str, &str, &[&str])] = &[
    (
        "misspelt key",
        "depth = 2",
        "depht = 2",
        &[
            "x.toml:13:1: ",
            "encoder.depht: unknown key",
            "(did you mean 'depth'?)",
        ],
    ),
    (
        "unknown section",
        "[encoder]",
        "[encodr]",
        &[
            "x.toml:12:2: ",
            "encodr: unknown key",
            "(did you mean 'encoder'?)",
        ],
    ),
    (
        "wrong type",
        "steps = 10",
        "steps = \"ten\"",
        &[
            "x.toml:19:9: ",
            "pretrain.A.steps: expected a non-negative integer, found a string (\"ten\")",
        ],
    ),
    (
        "wrong type for a number",
        "heads = 2",
        "heads = 2\ndropout = \"high\"",
        &["encoder.dropout: expected a number, found a string"],
    ),
    (
        "unknown enum value",
        "transfer = \"finetune\"",
        "transfer = \"finetun\"",
        &[
            "x.toml:24:12: ",
            "downstream.C.transfer: unknown value 'finetun'",
            "(did you mean 'finetune'?)",
        ],
    ),
    (
        "layers exceed depth",
        "transfer = \"finetune\"",
        "transfer = \"finetune\"\nlayers = 3",
        &[
            "x.toml:25:10: ",
            "downstream.C.layers: 3 exceeds encoder.depth = 2",
        ],
    ),
    (
        "layers neither all nor a number",
        "transfer = \"finetune\"",
        "transfer = \"finetune\"\nlayers = \"some\"",
        &["downstream.C.layers: expected \"all\" or a number of layers, found a string (\"some\")"],
    ),
    (
        "heads do not divide d_model",
        "heads = 2",
        "heads = 3",
        &[
            "x.toml:15:9: ",
            "encoder.heads: 3 heads do not divide d_model = 128",
        ],
    ),
    (
        "depth zero",
        "depth = 2",
        "depth = 0",
        &["encoder.depth: must be at least 1"],
    ),
    (
        "dropout out of range",
        "heads = 2",
        "heads = 2\ndropout = 1.0",
        &["encoder.dropout: 1 is outside [0, 1)"],
    ),
    (
        "learning rate not positive",
        "steps = 10",
        "steps = 10\noptimizer = { lr = 0.0 }",
        &["pretrain.A.optimizer.lr: 0 is not a positive learning rate"],
    ),
    (
        "frozen without pretraining",
        "from = \"A\"\ntransfer = \"finetune\"",
        "from = \"none\"\ntransfer = \"frozen\"",
        &[
            "x.toml:24:12: ",
            "downstream.C.transfer: transfer = \"frozen\" needs a pretraining stage",
        ],
    ),
    (
        "unknown dataset",
        "data = \"topics\"",
        "data = \"topic\"",
        &[
            "x.toml:22:8: ",
            "downstream.C.data: unknown dataset 'topic' (did you mean 'topics'?)",
        ],
    ),
    (
        "unknown pretrain stage",
        "from = \"A\"",
        "from = [\"A\", \"B\"]",
        &["downstream.C.from: unknown pretrain stage 'B'"],
    ),
    (
        "unknown corpus for the tokenizer",
        "fit_on = [\"text\"]",
        "fit_on = [\"txt\"]",
        &["tokenizer.fit_on: unknown corpus or dataset 'txt' (did you mean 'text'?)"],
    ),
    (
        "missing required key",
        "data = \"text\"\n",
        "",
        &["x.toml:17:11: ", "pretrain.A.data: missing"],
    ),
    (
        "sweep over an unknown key",
        "transfer = \"finetune\"\n",
        "transfer = \"finetune\"\n\n[sweep]\n\"encoder.depht\" = [1, 2]\n",
        &[
            "x.toml:27:1: ",
            "sweep.\"encoder.depht\": not a key of the experiment: encoder has no key 'depht' (did you mean 'depth'?)",
        ],
    ),
    (
        "sweep value of the wrong kind",
        "transfer = \"finetune\"\n",
        "transfer = \"finetune\"\n\n[sweep]\n\"downstream.C.transfer\" = [\"frozen\", \"fine\"]\n",
        &[
            "x.toml:27:38: ",
            "downstream.C.transfer: unknown value 'fine' (did you mean 'finetune'?)",
            "(in sweep cell downstream.C.transfer = \"fine\")",
        ],
    ),
    (
        "sweep cell breaking a rule",
        "transfer = \"finetune\"\n",
        "transfer = \"finetune\"\nlayers = 2\n\n[sweep]\n\"encoder.depth\" = [2, 1]\n",
        &[
            "downstream.C.layers: 2 exceeds encoder.depth = 1",
            "(in sweep cell encoder.depth = 1)",
        ],
    ),
    (
        "invalid TOML",
        "depth = 2",
        "depth = ",
        &["x.toml:13:", "invalid TOML"],
    ),
    (
        "duplicate seeds",
        "name = \"x\"",
        "name = \"x\"\nseeds = [1, 1]",
        &["x.toml:2:9: ", "seeds: seed 1 appears twice"],
    ),
    (
        "dataset path and a split file",
        "path = \"topics.tsv\"",
        "path = \"topics.tsv\"\ntrain = \"train.tsv\"",
        &[
            "x.toml:8:",
            "dataset.topics.train: dataset.topics.path is set too",
            "not both",
        ],
    ),
    (
        "split files with ratios",
        "path = \"topics.tsv\"",
        "train = \"train.tsv\"\ntest = \"test.tsv\"\nratios = [0.8, 0.1, 0.1]",
        &[
            "x.toml:9:",
            "dataset.topics.ratios: with one file per split (dataset.topics.train) the files are the splits",
            "(hint: remove ratios)",
        ],
    ),
    (
        "split files with a split column",
        "path = \"topics.tsv\"",
        "train = \"train.tsv\"\nsplit = \"split\"",
        &["dataset.topics.split: with one file per split"],
    ),
    (
        "split files without train",
        "path = \"topics.tsv\"",
        "dev = \"dev.tsv\"\ntest = \"test.tsv\"",
        &[
            "x.toml:7:",
            "dataset.topics.dev: one file per split needs dataset.topics.train",
        ],
    ),
    (
        "per-layer measurements on windows",
        "transfer = \"finetune\"",
        "transfer = \"finetune\"\nlong = \"windows\"\nprobe_layers = \"all\"",
        &["downstream.C.probe_layers: is not read with long = \"windows\""],
    ),
    (
        "dataset without a file",
        "path = \"topics.tsv\"",
        "text = \"text\"",
        &["dataset.topics: names no data file: expected path"],
    ),
];

fn message_for(replace: &str, with: &str) -> String {
    assert!(BASE.contains(replace), "case text {replace:?} not in BASE");
    let text = BASE.replacen(replace, with, 1);
    match load_str(&[("x.toml".into(), text)], &[], &[]) {
        Ok(_) => "(no error)".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn base_is_valid() {
    assert_eq!(message_for("name", "name"), "(no error)");
}

#[test]
fn error_messages() {
    let mut table = String::new();
    for (name, replace, with, expected) in CASES {
        let message = message_for(replace, with);
        for part in *expected {
            assert!(
                message.contains(part),
                "case {name:?}: message {message:?} lacks {part:?}"
            );
        }
        assert!(
            !message.contains('\n'),
            "case {name:?}: message spans lines: {message:?}"
        );
        table.push_str(&format!("{name}:\n  {message}\n"));
    }
    insta::assert_snapshot!("config_error_messages", table);
}

#[test]
fn overrides_are_named_as_the_source() {
    let env = vec![("EMBEDLAB_ENCODER__DEPHT".to_string(), "3".to_string())];
    let e = load_str(&[("x.toml".into(), BASE.into())], &[], &env)
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "environment variable EMBEDLAB_ENCODER__DEPHT: encoder.depht: unknown key (did you mean 'depth'?)"
    );

    let sets = vec!["downstream.C.transfer=frozn".to_string()];
    let e = load_str(&[("x.toml".into(), BASE.into())], &sets, &[])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "--set downstream.C.transfer=frozn: downstream.C.transfer: unknown value 'frozn' (did you mean 'frozen'?)"
    );

    let sets = vec!["encoder.depth".to_string()];
    let e = load_str(&[("x.toml".into(), BASE.into())], &sets, &[])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("--set encoder.depth: no `=`"), "{e}");
}

#[test]
fn a_sweep_may_set_an_optional_key_the_file_leaves_unset() {
    // `encoder_lr` and `freeze` are unset in BASE (absent from the resolved experiment), yet
    // they are keys of the experiment, so a sweep may set them; a misspelt one stays an error.
    let text = format!(
        "{BASE}\n[sweep]\n\"downstream.C.encoder_lr\" = [1e-4, 1e-3]\n\"downstream.C.freeze\" = [\"embeddings\"]\n"
    );
    let loaded = load_str(&[("x.toml".into(), text)], &[], &[]).unwrap();
    let lrs: Vec<Option<f64>> = loaded
        .points
        .iter()
        .map(|p| p.experiment.downstream["C"].encoder_lr)
        .collect();
    assert_eq!(lrs, vec![Some(1e-4), Some(1e-3)]);
    let text = format!("{BASE}\n[sweep]\n\"downstream.C.encoder_rl\" = [1e-4]\n");
    let e = load_str(&[("x.toml".into(), text)], &[], &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not a key of the experiment: downstream.C has no key 'encoder_rl'"),
        "{e}"
    );
}
