//! Datasets given as one file per split (`train`, `dev`, `test` instead of `path`): for each
//! task the split files hold the same examples per split as the one file with a split column,
//! and an experiment on them trains to the metrics of the same experiment on the one file; a
//! `.conll` dataset split by ratios reads back the same from one file per split; a span (QA)
//! table split into files reads the same and trains to the one file's metrics.
use crate::cli::{col, embedlab, read_csv};
use embedlab::config::{DatasetConfig, FilterConfig};
use embedlab::data::{Dataset, Example, load_dataset, load_span_dataset};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/e2e")
        .join(name)
}

fn config(path: Option<&Path>, files: [Option<&Path>; 3], pair: bool) -> DatasetConfig {
    DatasetConfig {
        document: Default::default(),
        path: path.map(Path::to_path_buf),
        train: files[0].map(Path::to_path_buf),
        dev: files[1].map(Path::to_path_buf),
        test: files[2].map(Path::to_path_buf),
        text: "text".into(),
        text_pair: pair.then(|| "text_pair".into()),
        label: "label".into(),
        split: path.map(|_| "split".into()),
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

/// Writes the rows of `file` (a TSV whose last column is the split) into one TSV per split,
/// without the split column; returns the three paths.
fn split_tsv(file: &str, dir: &Path) -> [PathBuf; 3] {
    let text = std::fs::read_to_string(fixture(file)).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let strip = |l: &str| l.rsplit_once('\t').unwrap().0.to_string();
    let out = ["train", "dev", "test"].map(|s| dir.join(format!("{s}.tsv")));
    for (split, path) in ["train", "dev", "test"].iter().zip(&out) {
        let mut body = strip(header) + "\n";
        for l in text
            .lines()
            .skip(1)
            .filter(|l| l.ends_with(&format!("\t{split}")))
        {
            body += &(strip(l) + "\n");
        }
        std::fs::write(path, body).unwrap();
    }
    let _ = lines;
    out
}

/// Runs the tiny experiment with `overlay` (its `{data}` replaced by the dataset's source keys)
/// twice in `dir`, on the split files and on the one `file` with its split column; checks that
/// both runs succeed and returns their runs.csv rows (header, split files' row, one file's row).
fn run_both_ways(
    dir: &Path,
    files: &[PathBuf; 3],
    file: &str,
    overlay: &str,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let sources = [
        format!(
            "train = \"{}\"\ndev = \"{}\"\ntest = \"{}\"",
            files[0].display(),
            files[1].display(),
            files[2].display()
        ),
        format!("path = \"{}\"\nsplit = \"split\"", fixture(file).display()),
    ];
    let mut out_rows = Vec::new();
    let mut header = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let over = dir.join(format!("task{i}.toml"));
        std::fs::write(&over, overlay.replace("{data}", source)).unwrap();
        let out = dir.join(format!("out{i}"));
        let (code, err) = embedlab(&[
            "run",
            fixture("tiny.toml").to_str().unwrap(),
            over.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{file}: {err}");
        let (h, rows) = read_csv(&out.join("tiny/runs.csv"));
        assert_eq!(rows.len(), 1, "{file}");
        assert_eq!(col(&h, &rows[0], "status"), "ok", "{file}");
        out_rows.push(rows[0].clone());
        header = h;
    }
    let one = out_rows.pop().unwrap();
    (header, out_rows.pop().unwrap(), one)
}

fn assert_same_splits(task: &str, one: &Dataset, per_split: &Dataset) {
    for (name, a, b) in [
        ("train", &one.train, &per_split.train),
        ("dev", &one.dev, &per_split.dev),
        ("test", &one.test, &per_split.test),
    ] {
        assert!(!a.is_empty(), "{task}: the fixture has a {name} split");
        assert_eq!(a, b, "{task}: {name} split");
    }
    assert_eq!(one.labels, per_split.labels, "{task}: labels");
}

/// Loads `file` both ways, checks they agree, then runs the tiny experiment (scratch, one seed)
/// on the split files with downstream C set to `task`.
fn split_files_train(task: &str, file: &str, extra: &str) {
    let dir = tempfile::tempdir().unwrap();
    let pair = task == "pair";
    let [train, dev, test] = split_tsv(file, dir.path());
    let (one, _) = load_dataset(
        &config(Some(&fixture(file)), [None; 3], pair),
        Path::new(""),
    )
    .unwrap();
    let (per_split, _) = load_dataset(
        &config(None, [Some(&train), Some(&dev), Some(&test)], pair),
        Path::new(""),
    )
    .unwrap();
    assert_same_splits(task, &one, &per_split);

    let overlay = format!(
        r#"seeds = [1]
[dataset.{task}data]
{{data}}
{extra}
[downstream.C]
task = "{task}"
data = "{task}data"
[sweep]
"downstream.C.transfer" = ["scratch"]
"#
    );
    let (h, split_files, one_file) = run_both_ways(dir.path(), &[train, dev, test], file, &overlay);
    // The same examples in the same order train the same model: the same test metrics, to
    // the bit, as the one-file run.
    let metric = if task == "tag" {
        "test_span_f1"
    } else {
        "test_macro_f1"
    };
    for m in ["test_accuracy", metric] {
        let (a, b) = (col(&h, &split_files, m), col(&h, &one_file, m));
        assert!(!a.is_empty(), "{task}: no {m}");
        assert_eq!(a, b, "{task}: {m} from split files vs one file");
    }
}

#[test]
fn classify_trains_from_split_files() {
    split_files_train("classify", "labeled.tsv", "");
}

#[test]
fn pair_trains_from_split_files() {
    split_files_train(
        "pair",
        "pairs.tsv",
        "text_pair = \"text_pair\"\n[embeddings]\nsegment = true",
    );
}

#[test]
fn tag_trains_from_split_files() {
    split_files_train("tag", "tags.tsv", "");
}

/// A missing dev file is an empty dev split (nothing is carved from train).
#[test]
fn a_missing_dev_file_is_an_empty_dev_split() {
    let dir = tempfile::tempdir().unwrap();
    let [train, _, test] = split_tsv("labeled.tsv", dir.path());
    let (ds, _) = load_dataset(
        &config(None, [Some(&train), None, Some(&test)], false),
        Path::new(""),
    )
    .unwrap();
    let (one, _) = load_dataset(
        &config(Some(&fixture("labeled.tsv")), [None; 3], false),
        Path::new(""),
    )
    .unwrap();
    assert!(ds.dev.is_empty());
    assert_eq!(ds.train, one.train);
    assert_eq!(ds.test, one.test);
}

fn write_conll(path: &Path, examples: &[Example]) {
    let mut body = String::new();
    for e in examples {
        for (w, t) in e.text.split_whitespace().zip(e.label.split_whitespace()) {
            body += &format!("{w}\t{t}\n");
        }
        body += "\n";
    }
    std::fs::write(path, body).unwrap();
}

/// `.conll` files have no split column: one file split by ratios, written back as one file per
/// split (the fixture's two sentences: train and test, no dev file), reads back the same.
#[test]
fn conll_split_files_read_back_the_ratio_split() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data/tiny.conll");
    let mut one_cfg = config(Some(&data), [None; 3], false);
    one_cfg.split = None;
    one_cfg.ratios = Some([0.5, 0.0, 0.5]);
    let (one, _) = load_dataset(&one_cfg, Path::new("")).unwrap();
    let files = ["train", "test"].map(|s| dir.path().join(format!("{s}.conll")));
    write_conll(&files[0], &one.train);
    write_conll(&files[1], &one.test);
    let (per_split, _) = load_dataset(
        &config(None, [Some(&files[0]), None, Some(&files[1])], false),
        Path::new(""),
    )
    .unwrap();
    assert!(!one.train.is_empty() && !one.test.is_empty() && one.dev.is_empty());
    assert_eq!(one.train, per_split.train);
    assert_eq!(one.test, per_split.test);
    assert!(per_split.dev.is_empty());
}

/// Span data: the QA fixture as one file with a split column and as one file per split give the
/// same questions per split, and a span run on the split files trains and scores.
#[test]
fn span_trains_from_split_files() {
    let dir = tempfile::tempdir().unwrap();
    let [train, dev, test] = split_tsv("span.tsv", dir.path());
    let one = load_span_dataset(
        &config(Some(&fixture("span.tsv")), [None; 3], false),
        Path::new(""),
    )
    .unwrap();
    let per_split = load_span_dataset(
        &config(None, [Some(&train), Some(&dev), Some(&test)], false),
        Path::new(""),
    )
    .unwrap();
    assert!(!one.train.is_empty() && !one.dev.is_empty() && !one.test.is_empty());
    // Ids name a question's line, which differs between the files; the rest must not.
    let strip = |xs: &[embedlab::data::SpanExample]| {
        xs.iter()
            .map(|e| (e.question.clone(), e.context.clone(), e.answers.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&one.train), strip(&per_split.train));
    assert_eq!(strip(&one.dev), strip(&per_split.dev));
    assert_eq!(strip(&one.test), strip(&per_split.test));

    let overlay = r#"seeds = [1]
[dataset.qa]
{data}
[tokenizer]
fit_on = ["text", "qa"]
[downstream.C]
task = "span"
data = "qa"
epochs = 2
batch_size = 16
[sweep]
"downstream.C.transfer" = ["scratch"]
"#;
    let (h, split_files, one_file) =
        run_both_ways(dir.path(), &[train, dev, test], "span.tsv", overlay);
    // The same questions in the same order train the same model: the one file's scores.
    for m in ["test_exact_match", "test_f1"] {
        let (a, b) = (col(&h, &split_files, m), col(&h, &one_file, m));
        assert!(!a.is_empty(), "span: no {m}");
        assert_eq!(a, b, "span: {m} from split files vs one file");
    }
}
