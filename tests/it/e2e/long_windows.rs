//! `long = "windows"` for `classify`, `pair` and `tag`: a label decided by a word beyond the
//! first window is learned with windows and not with truncation; `plan` and runs.csv say what
//! each way reads and cuts; pair and tag runs on windows train and score.
use crate::cli::{col, command, embedlab, read_csv};
use crate::score;
use rand::{Rng, SeedableRng};
use std::path::Path;

const FILLERS: [&str; 6] = ["stone", "river", "cloud", "grass", "sand", "wind"];

/// 23 words: 20 fillers, the deciding word (`red` or `blue`, its label) somewhere in positions
/// 8..20 (always past the first window of 6 text tokens), the rest fillers.
fn long_texts(path: &Path, seed: u64) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = String::from("text\tlabel\tsplit\n");
    for (split, n) in [("train", 240), ("dev", 40), ("test", 80)] {
        for i in 0..n {
            let label = if i % 2 == 0 { "red" } else { "blue" };
            let at = rng.random_range(8..20);
            let words: Vec<&str> = (0..23)
                .map(|k| {
                    if k == at {
                        label
                    } else {
                        FILLERS[rng.random_range(0..FILLERS.len())]
                    }
                })
                .collect();
            out += &format!("{}\t{label}\t{split}\n", words.join(" "));
        }
    }
    std::fs::write(path, out).unwrap();
}

/// A tiny experiment named `name` on TSV datasets (name, file, whether it has a `text_pair`),
/// a tokenizer fitted on them, a one-layer encoder with rows of 8 tokens, and `stages`.
fn tiny_toml(name: &str, datasets: &[(&str, &str, bool)], stages: &str) -> String {
    let mut t = format!("name = \"{name}\"\nseeds = [1]\n\n");
    for (d, file, pair) in datasets {
        t += &format!("[dataset.{d}]\npath = \"{file}\"\nsplit = \"split\"\n");
        if *pair {
            t += "text_pair = \"text_pair\"\n";
        }
        t += "\n";
    }
    let fit: Vec<String> = datasets
        .iter()
        .map(|(d, _, _)| format!("\"{d}\""))
        .collect();
    t += &format!(
        "[tokenizer]\nkind = \"wordpiece\"\nvocab_size = 120\nfit_on = [{}]\nmin_frequency = 1\n\n",
        fit.join(", ")
    );
    t += "[encoder]\ndepth = 1\nd_model = 16\nheads = 2\nffn = 32\nmax_len = 8\ndropout = 0.0\n\n";
    t + stages
}

/// Writes `toml` into `dir` and runs it there: runs.csv's header and rows.
fn run_toml(dir: &Path, name: &str, toml: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let exp = dir.join(format!("{name}.toml"));
    std::fs::write(&exp, toml).unwrap();
    let out = dir.join("out");
    let (code, err) = embedlab(&["run", exp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    read_csv(&out.join(name).join("runs.csv"))
}

/// The test split's (text, label) rows of a TSV whose columns are `text label split`.
fn test_rows(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[2] == "test").then(|| (f[0].to_string(), f[1].to_string()))
        })
        .collect()
}

/// `embedlab predict` of `run` over `test`'s texts (written into `scratch`): its CSV rows.
fn predict(run: &Path, test: &[(String, String)], scratch: &Path) -> Vec<Vec<String>> {
    let input = scratch.join("inputs.txt");
    let lines: Vec<&str> = test.iter().map(|(t, _)| t.as_str()).collect();
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    let csv = scratch.join("predicted.csv");
    let (code, err) = embedlab(&[
        "predict",
        run.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
        "--batch-size",
        "3",
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, rows) = read_csv(&csv);
    assert_eq!(rows.len(), test.len());
    rows
}

/// The share of `test` that `predict` of `run` labels as gold.
fn predicted_accuracy(run: &Path, test: &[(String, String)], scratch: &Path) -> f64 {
    let rows = predict(run, test, scratch);
    let correct = rows
        .iter()
        .zip(test)
        .filter(|(r, (_, gold))| r[1] == *gold)
        .count();
    correct as f64 / test.len() as f64
}

/// The long-texts experiment in `dir` with `long` settings: its test accuracy, cut token share
/// and runs.csv row, and predict's accuracy on its test texts.
fn long_run(dir: &Path, long: &str) -> (f64, f64, Vec<String>, Vec<String>, f64) {
    let stages = format!(
        "[downstream.C]\ndata = \"docs\"\ntransfer = \"scratch\"\nepochs = 12\nbatch_size = 32\nseq_len = 8\npooling = \"mean\"\noptimizer = {{ lr = 3e-3 }}\n{long}\n"
    );
    let (h, rows) = run_toml(
        dir,
        "long",
        &tiny_toml("long", &[("docs", "docs.tsv", false)], &stages),
    );
    let acc: f64 = col(&h, &rows[0], "test_accuracy").parse().unwrap();
    let cut: f64 = col(&h, &rows[0], "data.docs.cut_token_share")
        .parse()
        .unwrap();
    let run = dir.join("out/long/runs/c001-s1");
    let predicted = predicted_accuracy(&run, &test_rows(&dir.join("docs.tsv")), dir);
    (acc, cut, h, rows[0].clone(), predicted)
}

#[test]
fn a_word_beyond_the_first_window_is_learned_with_windows_not_with_truncation() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    for d in [&a, &b, &c] {
        long_texts(&d.path().join("docs.tsv"), 7);
    }
    let (truncated, cut_t, _, _, _) = long_run(a.path(), "");
    let (windowed, cut_w, h, row, predicted_max) = long_run(
        b.path(),
        "long = \"windows\"\nstride = 3\nwindow_pool = \"max\"",
    );
    let (mean, _, _, _, predicted_mean) = long_run(c.path(), "long = \"windows\"\nstride = 3");
    println!("test accuracy: truncated {truncated}, windows max {windowed}, mean {mean}");
    // The first 6 tokens never hold the deciding word: truncation sits at chance.
    assert!(truncated < 0.7, "truncated {truncated}");
    assert!(windowed > 0.9, "windows, max {windowed}");
    assert!(mean > 0.9, "windows, mean {mean}");
    // `predict` reads a windowed run's inputs in the same windows and pools them the same way.
    assert_eq!(predicted_max, windowed);
    assert_eq!(predicted_mean, mean);
    assert!(cut_t > 0.7, "truncation cuts most tokens: {cut_t}");
    assert_eq!(cut_w, 0.0, "windows read every token");
    let per: f64 = col(&h, &row, "data.docs.windows_per_example")
        .parse()
        .unwrap();
    // At least 23 tokens, windows of 6 starting 3 apart: 7 or more.
    assert!(per >= 7.0, "{per}");

    // plan says the same before a run, from the fitted tokenizer.
    let o = command()
        .args([
            "plan",
            b.path().join("long.toml").to_str().unwrap(),
            "--out",
            b.path().join("out").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let plan = String::from_utf8_lossy(&o.stdout);
    assert!(
        plan.contains(
            "dataset.docs at seq_len 8 in windows: 360 of 360 examples exceed it (100.0%), read in windows ("
        ) && plan.contains("per example), 0.0% of tokens cut"),
        "{plan}"
    );
}

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/e2e")
        .join(name)
}

#[test]
fn mean_pooled_pairs_and_tagging_train_on_windows() {
    let dir = tempfile::tempdir().unwrap();
    // seq_len 8: the fixtures' 9-word texts need two or more windows. One experiment each, so
    // that `predict` reads each run's one downstream model.
    let pair_stage = r#"[downstream.P]
task = "pair"
data = "pairs"
transfer = "scratch"
epochs = 2
batch_size = 8
seq_len = 8
long = "windows"
"#;
    let tag_stage = r#"[downstream.T]
task = "tag"
data = "tags"
transfer = "scratch"
epochs = 8
batch_size = 8
seq_len = 8
long = "windows"
stride = 2
"#;
    let (pdir, tdir) = (dir.path().join("p"), dir.path().join("t"));
    for (d, f) in [(&pdir, "pairs.tsv"), (&tdir, "tags.tsv")] {
        std::fs::create_dir(d).unwrap();
        std::fs::copy(fixture(f), d.join(f)).unwrap();
    }
    let (ph, prows) = run_toml(
        &pdir,
        "w",
        &tiny_toml("w", &[("pairs", "pairs.tsv", true)], pair_stage),
    );
    let (th, trows) = run_toml(
        &tdir,
        "w",
        &tiny_toml("w", &[("tags", "tags.tsv", false)], tag_stage),
    );
    for (data, h, row) in [("pairs", &ph, &prows[0]), ("tags", &th, &trows[0])] {
        let per: f64 = col(h, row, &format!("data.{data}.windows_per_example"))
            .parse()
            .unwrap();
        assert!(per > 2.0, "{data}: {per} windows per example");
    }
    // Tagging windows read every token; a pair's first text may lose its tail beyond half a
    // window.
    assert_eq!(col(&th, &trows[0], "data.tags.cut_token_share"), "0");
    let pnum = |key: &str| -> f64 { col(&ph, &prows[0], key).parse().unwrap() };
    let tnum = |key: &str| -> f64 { col(&th, &trows[0], key).parse().unwrap() };

    // Eight epochs on windows learn the tags (measured: word accuracy 0.97 against always-`O`'s
    // 0.78, span F1 0.88 against a constant tagger's best 0.12), and `predict` reads the
    // windows as the stage did.
    let tags = score::split_rows(&fixture("tags.tsv"), "test");
    let gold_tags = score::column(&tags, "label");
    let (tag_acc, tag_f1) = score::constant_tagger(&gold_tags);
    let (acc, f1) = (tnum("test_accuracy"), tnum("test_span_f1"));
    assert!(acc > tag_acc, "tag accuracy {acc} vs {tag_acc}");
    assert!(f1 > tag_f1, "tag span F1 {f1} vs {tag_f1}");
    let run = tdir.join("out/w/runs/c001-s1");
    let predicted = score::predict(&run, &tags, &["text"], "tags", &tdir);
    let (pred_acc, pred_f1) = score::tag_scores(&gold_tags, &predicted);
    assert!(
        (acc - pred_acc).abs() < 1e-12,
        "predict: word accuracy {pred_acc}"
    );
    assert!((f1 - pred_f1).abs() < 1e-12, "predict: span F1 {pred_f1}");

    // The pair task is not learned by this tiny model (every cell of e2e::tasks answers one
    // class), so the check is that the metrics are those of the labels `predict` gives, which
    // pools each pair's windows as the stage did.
    let pairs = score::split_rows(&fixture("pairs.tsv"), "test");
    let run = pdir.join("out/w/runs/c001-s1");
    let predicted = score::predict(&run, &pairs, &["text", "text_pair"], "label", &pdir);
    let (acc, f1) = score::accuracy_macro_f1(&score::column(&pairs, "label"), &predicted);
    assert_eq!(pnum("test_accuracy"), acc);
    assert!(
        (pnum("test_macro_f1") - f1).abs() < 1e-12,
        "pair macro-F1 {f1}"
    );
}

#[test]
fn frozen_finetuned_and_scratch_runs_pool_windows() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, err) = embedlab(&[
        "run",
        fixture("tiny.toml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--set",
        "seeds=[1]",
        "--set",
        "downstream.C.seq_len=8",
        "--set",
        "downstream.C.long=\"windows\"",
        "--set",
        "downstream.C.window_pool=\"max\"",
    ]);
    assert_eq!(code, 0, "{err}");
    let (h, rows) = read_csv(&out.join("tiny/runs.csv"));
    assert_eq!(rows.len(), 3);
    let test = test_rows(&fixture("labeled.tsv"));
    let gold: Vec<String> = test.iter().map(|(_, l)| l.clone()).collect();
    let (majority, _) = score::constant_classifier(&gold);
    for row in &rows {
        assert_eq!(col(&h, row, "status"), "ok");
        let per: f64 = col(&h, row, "data.words.windows_per_example")
            .parse()
            .unwrap();
        assert!(per > 1.0, "{per}");
        let acc: f64 = col(&h, row, "test_accuracy").parse().unwrap();
        // Fine-tuning learns the classes on max-pooled windows (measured 0.67 against the
        // constant predictor's 1/3); in three epochs scratch and frozen runs do not (1/3).
        if col(&h, row, "transfer") == "finetune" {
            assert!(acc > majority, "finetune accuracy {acc} vs {majority}");
        }
        if col(&h, row, "transfer") == "frozen" {
            assert_eq!(col(&h, row, "encoder_checksum_unchanged"), "1");
        }
        // predict pools the windows as the stage did: the same test accuracy.
        let run = out.join("tiny/runs").join(col(&h, row, "run_id"));
        let predicted = predicted_accuracy(&run, &test, dir.path());
        assert!((predicted - acc).abs() < 1e-9, "{predicted} vs {acc}");
    }
}

#[test]
fn predict_reads_each_word_of_a_windowed_tagger_from_its_best_window() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("tags.tsv"), dir.path().join("tags.tsv")).unwrap();
    // One epoch: an imperfect tagger, so that reading a word from the wrong window would show.
    let stages = r#"[downstream.T]
task = "tag"
data = "tags"
transfer = "scratch"
epochs = 1
batch_size = 8
seq_len = 8
long = "windows"
stride = 2
"#;
    let datasets = [("tags", "tags.tsv", false)];
    let (h, rows) = run_toml(dir.path(), "t", &tiny_toml("t", &datasets, stages));
    let scored: f64 = col(&h, &rows[0], "test_accuracy").parse().unwrap();
    let test = test_rows(&fixture("tags.tsv"));
    let predicted = predict(&dir.path().join("out/t/runs/c001-s1"), &test, dir.path());
    let (mut right, mut words) = (0, 0);
    for (row, (_, gold)) in predicted.iter().zip(&test) {
        let (p, g): (Vec<&str>, Vec<&str>) = (
            row[1].split_whitespace().collect(),
            gold.split_whitespace().collect(),
        );
        assert_eq!(p.len(), g.len(), "one tag per word: {row:?}");
        right += p.iter().zip(&g).filter(|(a, b)| a == b).count();
        words += g.len();
    }
    // The stage scored each word's first token once, from its best window; so does predict.
    let acc = right as f64 / words as f64;
    println!("tag accuracy: predict {acc}, stage {scored}");
    assert!(
        (acc - scored).abs() < 1e-9,
        "predict {acc} vs stage {scored}"
    );
}
