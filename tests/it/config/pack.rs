//! `pack` (a bool or a word), a corpus's `document`, and sweep axes with `*` for a NAME
//! (`"pretrain.*.pack"`): what loads, and the messages for mistakes.

use embedlab::config::{Document, Pack, load_str};

const BASE: &str = r#"name = "x"

[corpus.text]
path = "text.txt"

[corpus.long]
path = "long.txt"
document = "blank-line"

[dataset.topics]
path = "topics.tsv"

[tokenizer]
fit_on = ["text"]

[pretrain.A]
data = "text"

[pretrain.B]
data = "long"

[downstream.C]
data = "topics"
from = "A"

[downstream.D]
data = "topics"
from = "B"
"#;

fn load(extra: &str) -> Result<embedlab::config::Loaded, String> {
    load_str(&[("x.toml".into(), format!("{BASE}{extra}"))], &[], &[]).map_err(|e| e.to_string())
}

#[test]
fn a_star_axis_sets_the_key_in_every_table_at_once() {
    let loaded =
        load("\n[sweep]\n\"pretrain.*.pack\" = [false, \"documents\", \"masked\", true]\n")
            .unwrap();
    assert_eq!(loaded.axes, vec!["pretrain.*.pack"]);
    let packs: Vec<(Pack, Pack)> = loaded
        .points
        .iter()
        .map(|p| {
            (
                p.experiment.pretrain["A"].pack,
                p.experiment.pretrain["B"].pack,
            )
        })
        .collect();
    assert_eq!(
        packs,
        vec![
            (Pack::Off, Pack::Off),
            (Pack::Documents, Pack::Documents),
            (Pack::Masked, Pack::Masked),
            (Pack::Stream, Pack::Stream),
        ]
    );
    assert_eq!(loaded.base.corpus["long"].document, Document::BlankLine);
    assert_eq!(loaded.base.corpus["text"].document, Document::Line);
}

/// (extra text, substrings the message must contain).
const CASES: &[(&str, &[&str])] = &[
    (
        "\n[pretrain.E]\ndata = \"text\"\npack = \"docs\"\n",
        &[
            "pretrain.E.pack",
            "false, true, \"stream\", \"documents\" or \"masked\"",
        ],
    ),
    (
        "\n[corpus.bad]\npath = \"b.txt\"\ndocument = \"paragraph\"\n",
        &["corpus.bad.document", "blank-line"],
    ),
    (
        "\n[sweep]\n\"encoder.*\" = [1]\n",
        &["sweep.\"encoder.*\"", "'*' stands only for the NAME"],
    ),
    (
        "\n[sweep]\n\"pretrain.*.pakc\" = [true]\n",
        &[
            "not a key of the experiment",
            "'pakc'",
            "(did you mean 'pack'?)",
        ],
    ),
];

#[test]
fn mistakes_are_located_messages() {
    for (extra, expected) in CASES {
        let message = load(extra).err().unwrap_or_else(|| "(no error)".into());
        for part in *expected {
            assert!(
                message.contains(part),
                "{extra:?}: {message:?} lacks {part:?}"
            );
        }
    }
    // A `*` with no table to stand for.
    let text = "name = \"x\"\n[corpus.text]\npath = \"t.txt\"\n[dataset.d]\npath = \"d.tsv\"\n[tokenizer]\nfit_on = [\"text\"]\n[downstream.C]\ndata = \"d\"\n[sweep]\n\"pretrain.*.pack\" = [true]\n";
    let e = load_str(&[("x.toml".into(), text.into())], &[], &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("there is no [pretrain.NAME] for '*' to stand for"),
        "{e}"
    );
}
