//! Sources and loading: every file kind, splits, and bad input named by file and line.

use embedlab::config::{CorpusConfig, DatasetConfig, FilterConfig};
use embedlab::data::source::{Columns, Split, read_table, read_text};
use embedlab::data::{DataError, load_corpus, load_dataset};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data")
}

fn dataset(path: &str) -> DatasetConfig {
    DatasetConfig {
        document: Default::default(),
        path: Some(path.into()),
        train: None,
        dev: None,
        test: None,
        text: "text".into(),
        text_pair: None,
        label: "label".into(),
        split: Some("split".into()),
        ratios: None,
        split_seed: 0,
        filter: FilterConfig::default(),
        unseen_labels: Default::default(),
        question: "question".into(),
        context: "context".into(),
        answer: "answer".into(),
        answer_start: "answer_start".into(),
    }
}

const COLS: Columns<'static> = Columns {
    text: "text",
    text_pair: None,
    label: "label",
    split: Some("split"),
};

#[test]
fn plain_text_and_gzip_read_the_same() {
    let plain = read_text(&fixtures().join("corpus.txt")).unwrap();
    let gz = read_text(&fixtures().join("corpus.txt.gz")).unwrap();
    assert_eq!(plain, gz);
    assert_eq!(plain.lines.len(), 3);
    assert_eq!(plain.blank, 1);
    assert_eq!(plain.lines[1], "And the earth was without form, and void.");
}

#[test]
fn load_corpus_reports_blank_lines() {
    let cfg = CorpusConfig {
        document: Default::default(),
        path: "corpus.txt.gz".into(),
        filter: FilterConfig::default(),
    };
    let (lines, report) = load_corpus(&cfg, &fixtures()).unwrap();
    assert_eq!(lines.len(), 3);
    assert_eq!(report.kept, 3);
    assert_eq!(report.removed, vec![("blank_lines".to_string(), 1)]);
}

#[test]
fn tsv_with_split_column() {
    let (ds, report) = load_dataset(&dataset("tiny.tsv"), &fixtures()).unwrap();
    assert_eq!((ds.train.len(), ds.dev.len(), ds.test.len()), (3, 1, 2));
    assert_eq!(ds.train[0].text, "the cat sat on the mat");
    assert_eq!(ds.labels, ["animal", "food"]);
    assert_eq!(ds.unseen_labels, ["plant"]);
    assert_eq!(ds.label_id("food"), Some(1));
    assert_eq!(report.kept, 6);
}

#[test]
fn csv_with_quotes_and_split_aliases() {
    let recs = read_table(&fixtures().join("tiny.csv"), &COLS).unwrap();
    assert_eq!(recs.len(), 4);
    assert_eq!(recs[0].example.text, "the cat, the mat");
    assert_eq!(recs[1].example.text, "a \"quoted\" dog");
    assert_eq!(recs[2].split, Some(Split::Dev));
    assert_eq!(recs[3].example.text, "multi\nline");
}

#[test]
fn jsonl_pairs_with_non_string_labels_and_ratios() {
    let cfg = DatasetConfig {
        text_pair: Some("pair".into()),
        split: None,
        ratios: Some([1.0, 0.0, 0.0]),
        ..dataset("tiny.jsonl")
    };
    let (ds, _) = load_dataset(&cfg, &fixtures()).unwrap();
    assert_eq!(ds.train.len(), 3);
    assert_eq!(ds.train[0].text_pair.as_deref(), Some("a feline"));
    assert_eq!(ds.labels, ["0", "1", "true"]);
}

#[test]
fn seeded_ratios_are_deterministic_and_sized() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = String::from("text\tlabel\n");
    for i in 0..100 {
        body.push_str(&format!("example number {i}\tl{}\n", i % 3));
    }
    std::fs::write(dir.path().join("d.tsv"), body).unwrap();
    let cfg = |seed| DatasetConfig {
        split: None,
        ratios: Some([0.7, 0.2, 0.1]),
        split_seed: seed,
        ..dataset("d.tsv")
    };
    let (a, _) = load_dataset(&cfg(1), dir.path()).unwrap();
    let (b, _) = load_dataset(&cfg(1), dir.path()).unwrap();
    let (c, _) = load_dataset(&cfg(2), dir.path()).unwrap();
    assert_eq!((a.train.len(), a.dev.len(), a.test.len()), (70, 20, 10));
    assert_eq!(a, b);
    assert_ne!(a.train, c.train);
    // Default ratios when there is neither a split column nor ratios.
    let (d, _) = load_dataset(
        &DatasetConfig {
            ratios: None,
            ..cfg(0)
        },
        dir.path(),
    )
    .unwrap();
    assert_eq!((d.train.len(), d.dev.len(), d.test.len()), (80, 10, 10));
}

#[test]
fn shipped_files_load() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (lines, _) = load_corpus(
        &CorpusConfig {
            document: Default::default(),
            path: "data/kjv.txt.gz".into(),
            filter: FilterConfig::default(),
        },
        root,
    )
    .unwrap();
    assert_eq!(lines.len(), 31102);
    assert_eq!(
        lines[0],
        "In the beginning God created the heaven and the earth."
    );
    let (ss, _) = load_dataset(&dataset("data/wordnet/supersense.tsv.gz"), root).unwrap();
    assert_eq!(ss.labels.len(), 45);
    assert!(ss.train.len() > 5000 && ss.unseen_labels.is_empty());
    let pairs = DatasetConfig {
        text_pair: Some("text_pair".into()),
        ..dataset("data/wordnet/defpairs.tsv.gz")
    };
    let (dp, _) = load_dataset(&pairs, root).unwrap();
    assert_eq!(dp.labels, ["0", "1"]);
    assert!(dp.train.iter().all(|e| e.text_pair.is_some()));
    let (tg, _) = load_dataset(&dataset("data/wordnet/tagging.tsv.gz"), root).unwrap();
    tg.check_tagging("tagging").unwrap();
    let tags = tg.tag_labels();
    assert_eq!(tags[0], "O");
    assert!(tags.iter().any(|t| t == "B-noun.animal"));
}

/// Writes `body` to a file named `name` in a temp dir and returns the error of reading it.
fn error_of(name: &str, body: &[u8], cols: Columns<'_>) -> (String, DataError) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, body).unwrap();
    let err = if name.ends_with(".txt") {
        read_text(&path).unwrap_err()
    } else {
        read_table(&path, &cols).unwrap_err()
    };
    (path.display().to_string(), err)
}

#[test]
fn bad_input_names_file_and_line() {
    let pair_cols = Columns {
        text_pair: Some("pair"),
        ..COLS
    };
    let cases: Vec<(&str, &[u8], Columns<'_>, &str)> = vec![
        ("ragged.tsv", b"text\tlabel\tsplit\na\tb\ttrain\nc\td\n", COLS, ":3: expected 3 fields like the header, found 2"),
        ("ragged.csv", b"text,label,split\na,b,train\nc,d\n", COLS, ":3: expected 3 fields"),
        ("utf8.txt", b"fine\nalso fine\nbad \xff byte\n", COLS, ":3: invalid UTF-8"),
        ("utf8.tsv", b"text\tlabel\tsplit\nok\tx\ttrain\n\xc3\x28\tx\ttrain\n", COLS, ":3: invalid UTF-8"),
        ("utf8.csv", b"text,label,split\nok,x,train\nok,\xff,train\n", COLS, ":3: invalid UTF-8"),
        ("col.tsv", b"txt\tlabel\tsplit\na\tb\ttrain\n", COLS, ":1: column 'text' (text) not found; the columns are: txt, label, split (did you mean 'txt'?)"),
        ("col.csv", b"text,label\na,b\n", COLS, ":1: column 'split' (split) not found"),
        ("col.jsonl", b"{\"text\":\"a\",\"label\":\"b\",\"split\":\"train\"}\n{\"text\":\"a\",\"split\":\"train\"}\n", COLS, ":2: column 'label' (label) not found"),
        ("pair.tsv", b"text\tlabel\tsplit\na\tb\ttrain\n", pair_cols, "column 'pair' (text_pair) not found"),
        ("json.jsonl", b"{\"text\":\"a\",\"label\":\"b\",\"split\":\"train\"}\n{oops\n", COLS, ":2: invalid JSON"),
        ("split.tsv", b"text\tlabel\tsplit\na\tb\ttraining\n", COLS, ":2: split 'training' is not one of"),
        ("emptyfield.tsv", b"text\tlabel\tsplit\n \tb\ttrain\n", COLS, ":2: empty text (column 'text')"),
        ("empty.txt", b"\n  \n", COLS, "no data"),
        ("empty.tsv", b"text\tlabel\tsplit\n", COLS, "no data"),
        ("empty.csv", b"", COLS, "no data"),
        ("data.xml", b"<x/>", COLS, "cannot tell the format"),
    ];
    for (name, body, cols, want) in cases {
        let (path, err) = error_of(name, body, cols);
        let msg = err.to_string();
        assert!(
            msg.starts_with(&path),
            "{name}: message does not start with the path: {msg}"
        );
        assert!(msg.contains(want), "{name}: {msg}\n  expected: {want}");
    }
}

#[test]
fn missing_file_and_bad_gzip() {
    let err = load_corpus(
        &CorpusConfig {
            document: Default::default(),
            path: "nope.txt".into(),
            filter: FilterConfig::default(),
        },
        &fixtures(),
    )
    .unwrap_err();
    assert!(matches!(err, DataError::MissingFile { .. }));
    assert!(
        err.to_string().contains("nope.txt: file not found"),
        "{err}"
    );
    let (_, err) = error_of("broken.txt", &[0x1f, 0x8b, 0x08, 0, 1, 2], COLS);
    assert!(err.to_string().contains("not a valid gzip file"), "{err}");
}

#[test]
fn config_mistakes_are_errors() {
    let both = DatasetConfig {
        ratios: Some([0.8, 0.1, 0.1]),
        ..dataset("tiny.tsv")
    };
    let e = load_dataset(&both, &fixtures()).unwrap_err().to_string();
    assert!(e.contains("either a split column or ratios"), "{e}");
    let bad = DatasetConfig {
        split: None,
        ratios: Some([0.8, 0.3, 0.1]),
        ..dataset("tiny.tsv")
    };
    let e = load_dataset(&bad, &fixtures()).unwrap_err().to_string();
    assert!(e.contains("sum to 1"), "{e}");
    let txt = DatasetConfig {
        split: None,
        ..dataset("corpus.txt")
    };
    let e = load_dataset(&txt, &fixtures()).unwrap_err().to_string();
    assert!(e.contains("plain text is for corpora"), "{e}");
}

#[test]
fn tagging_check_names_the_example() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("t.tsv"),
        "text\tlabel\tsplit\nthe cat sat\tO B-x O\ttrain\na dog\tO\ttest\n",
    )
    .unwrap();
    let (ds, _) = load_dataset(&dataset("t.tsv"), dir.path()).unwrap();
    let e = ds.check_tagging("tags").unwrap_err().to_string();
    assert!(
        e.contains("tags: test example 0: 1 tags for 2 words"),
        "{e}"
    );
}

#[test]
fn conll_token_tag_sentences() {
    let recs = read_table(&fixtures().join("tiny.conll"), &COLS).unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].example.text, "the cat sat");
    assert_eq!(recs[0].example.label, "O B-noun.animal O");
    assert_eq!((recs[0].line, recs[1].line), (2, 6));
    let cfg = DatasetConfig {
        split: None,
        ratios: Some([1.0, 0.0, 0.0]),
        ..dataset("tiny.conll")
    };
    let (ds, _) = load_dataset(&cfg, &fixtures()).unwrap();
    ds.check_tagging("conll").unwrap();
    assert_eq!(ds.tag_labels(), ["O", "B-ORG", "B-noun.animal"]);
    let e = load_dataset(&dataset("tiny.conll"), &fixtures())
        .unwrap_err()
        .to_string();
    assert!(e.contains("no split column"), "{e}");
    let (_, e) = error_of("bad.conll", b"the\tO\ncat\n", COLS);
    assert!(
        e.to_string().contains(":2: expected 'token<TAB>tag'"),
        "{e}"
    );
}

#[test]
fn digest_is_the_sha256_of_the_stored_bytes() {
    let d = embedlab::data::digest(&fixtures().join("corpus.txt")).unwrap();
    assert_eq!(d.len(), 64);
    assert_ne!(
        d,
        embedlab::data::digest(&fixtures().join("corpus.txt.gz")).unwrap()
    );
    assert!(matches!(
        embedlab::data::digest(&fixtures().join("nope")),
        Err(DataError::MissingFile { .. })
    ));
}
