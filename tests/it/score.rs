//! Scores computed in the test, so that a test can hold runs.csv to something that could fail:
//! the metrics of runs.csv recomputed from what `embedlab predict` labels (accuracy; macro-F1
//! over the classes in the gold labels; word accuracy and conlleval span F1 of tags), and what a
//! model that learned nothing reaches on a fixture's split: the best constant predictor (always
//! one class, always one tag), scored by the same definitions.
use crate::cli::{col, embedlab, read_csv};
use std::collections::BTreeSet;
use std::path::Path;

/// The rows of `split` in a fixture TSV (header row, a `split` column), as maps from column
/// name to value.
pub fn split_rows(path: &Path, split: &str) -> Vec<Vec<(String, String)>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split('\t'))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        })
        .filter(|r| r.iter().any(|(h, v)| h == "split" && v == split))
        .collect()
}

/// The value of column `name` in one row from [`split_rows`].
fn value<'a>(row: &'a [(String, String)], name: &str) -> &'a str {
    &row.iter()
        .find(|(h, _)| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .1
}

/// Column `name` of rows from [`split_rows`].
pub fn column(rows: &[Vec<(String, String)>], name: &str) -> Vec<String> {
    rows.iter().map(|r| value(r, name).to_string()).collect()
}

/// (accuracy, macro-F1) of `pred` against `gold`; macro-F1 averages F1 over the classes that
/// occur in `gold`.
pub fn accuracy_macro_f1(gold: &[String], pred: &[String]) -> (f64, f64) {
    assert_eq!(gold.len(), pred.len());
    let right = gold.iter().zip(pred).filter(|(g, p)| g == p).count();
    let classes: BTreeSet<&String> = gold.iter().collect();
    let f1: f64 = classes
        .iter()
        .map(|c| {
            let tp = gold
                .iter()
                .zip(pred)
                .filter(|(g, p)| g == c && p == c)
                .count();
            let fp = gold
                .iter()
                .zip(pred)
                .filter(|(g, p)| g != c && p == c)
                .count();
            let fn_ = gold
                .iter()
                .zip(pred)
                .filter(|(g, p)| g == c && p != c)
                .count();
            2.0 * tp as f64 / (2 * tp + fp + fn_) as f64
        })
        .sum();
    (right as f64 / gold.len() as f64, f1 / classes.len() as f64)
}

/// Chunks of one BIO sequence as (start, end, type), conlleval style: a chunk starts at `B-X`,
/// or at `I-X` after anything but `B-X`/`I-X`.
fn chunks(tags: &[&str]) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, &str)> = None;
    for (i, t) in tags.iter().enumerate() {
        let (prefix, kind) = t.split_once('-').unwrap_or((t, ""));
        if prefix == "I" && open.is_some_and(|(_, k)| k == kind) {
            continue;
        }
        if let Some((start, k)) = open.take() {
            out.push((start, i, k.to_string()));
        }
        if prefix == "B" || prefix == "I" {
            open = Some((i, kind));
        }
    }
    if let Some((start, k)) = open {
        out.push((start, tags.len(), k.to_string()));
    }
    out
}

/// (word accuracy, span F1) of predicted tag rows against gold ones (space-separated tags, one
/// row per text).
pub fn tag_scores(gold: &[String], pred: &[String]) -> (f64, f64) {
    assert_eq!(gold.len(), pred.len());
    let (mut right, mut words, mut correct, mut predicted, mut wanted) = (0, 0, 0, 0, 0);
    for (g, p) in gold.iter().zip(pred) {
        let (g, p): (Vec<&str>, Vec<&str>) = (
            g.split_whitespace().collect(),
            p.split_whitespace().collect(),
        );
        assert_eq!(g.len(), p.len(), "one tag per word: {g:?} {p:?}");
        right += g.iter().zip(&p).filter(|(a, b)| a == b).count();
        words += g.len();
        let (gc, pc) = (chunks(&g), chunks(&p));
        correct += pc.iter().filter(|c| gc.contains(c)).count();
        predicted += pc.len();
        wanted += gc.len();
    }
    let f1 = if correct == 0 {
        0.0
    } else {
        let (prec, rec) = (
            correct as f64 / predicted as f64,
            correct as f64 / wanted as f64,
        );
        2.0 * prec * rec / (prec + rec)
    };
    (right as f64 / words as f64, f1)
}

/// The best (accuracy, macro-F1) of a classifier that answers one class for every example,
/// each maximised over the classes in `gold`.
pub fn constant_classifier(gold: &[String]) -> (f64, f64) {
    let classes: BTreeSet<&String> = gold.iter().collect();
    classes
        .iter()
        .map(|c| accuracy_macro_f1(gold, &vec![(*c).clone(); gold.len()]))
        .fold((0.0, 0.0), |(a, f), (x, y)| {
            (f64::max(a, x), f64::max(f, y))
        })
}

/// The best (word accuracy, span F1) of a tagger that answers one tag for every word, each
/// maximised over the tags in `gold`.
pub fn constant_tagger(gold: &[String]) -> (f64, f64) {
    let tags: BTreeSet<&str> = gold.iter().flat_map(|r| r.split_whitespace()).collect();
    tags.iter()
        .map(|t| {
            let pred: Vec<String> = gold
                .iter()
                .map(|r| vec![*t; r.split_whitespace().count()].join(" "))
                .collect();
            tag_scores(gold, &pred)
        })
        .fold((0.0, 0.0), |(a, f), (x, y)| {
            (f64::max(a, x), f64::max(f, y))
        })
}

/// `embedlab predict` of the run in `run` over `rows` (the text columns named in `inputs`,
/// written as a TSV into `scratch`): column `out` of each predicted row (`label`, or `tags`).
pub fn predict(
    run: &Path,
    rows: &[Vec<(String, String)>],
    inputs: &[&str],
    out: &str,
    scratch: &Path,
) -> Vec<String> {
    let input = scratch.join("predict_inputs.tsv");
    let mut tsv = inputs.join("\t") + "\n";
    for r in rows {
        let fields: Vec<&str> = inputs.iter().map(|c| value(r, c)).collect();
        tsv += &(fields.join("\t") + "\n");
    }
    std::fs::write(&input, tsv).unwrap();
    let csv = scratch.join("predicted.csv");
    let (code, err) = embedlab(&[
        "predict",
        run.to_str().unwrap(),
        "--input",
        input.to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (h, predicted) = read_csv(&csv);
    assert_eq!(predicted.len(), rows.len());
    predicted
        .iter()
        .map(|r| col(&h, r, out).to_string())
        .collect()
}

#[test]
fn scores_and_constant_predictors_follow_the_definitions() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // Class a: tp 2, fp 1, fn 1 -> F1 4/6; class b: tp 0 -> 0. Macro over {a, b}: 1/3.
    let (acc, f1) = accuracy_macro_f1(&s(&["a", "a", "b", "a"]), &s(&["a", "b", "a", "a"]));
    assert_eq!(acc, 0.5);
    assert!((f1 - 1.0 / 3.0).abs() < 1e-12, "{f1}");
    // 3 of 4 are `a`: always `a` is right 3/4, F1 6/7 on a and 0 on b: macro 3/7.
    let (acc, f1) = constant_classifier(&s(&["a", "a", "b", "a"]));
    assert_eq!(acc, 0.75);
    assert!((f1 - 3.0 / 7.0).abs() < 1e-12, "{f1}");
    // All `O` is right on 4 of 6 words and finds no chunk; all `B-x` is right on 2 words and
    // predicts 6 one-word chunks, 2 of them gold (of 2): P 1/3, R 1, F1 1/2.
    let (acc, f1) = constant_tagger(&s(&["O B-x O", "B-x O O"]));
    assert!((acc - 4.0 / 6.0).abs() < 1e-12, "{acc}");
    assert!((f1 - 0.5).abs() < 1e-12, "{f1}");
    // `B-x I-x` is one chunk: predicting it as two one-word chunks finds neither.
    assert_eq!(tag_scores(&s(&["B-x I-x"]), &s(&["B-x B-x"])), (0.5, 0.0));
}

/// SQuAD v1.1's answer normalisation: lower case, no punctuation, no articles, single spaces.
fn squad_normal(s: &str) -> Vec<String> {
    let lower: String = s
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect();
    lower
        .split_whitespace()
        .filter(|w| !["a", "an", "the"].contains(w))
        .map(String::from)
        .collect()
}

/// SQuAD v1.1's (exact match, token F1) of predicted answers, one gold answer each.
pub fn squad_scores(gold: &[String], pred: &[String]) -> (f64, f64) {
    assert_eq!(gold.len(), pred.len());
    let (mut em, mut f1) = (0.0, 0.0);
    for (g, p) in gold.iter().zip(pred) {
        let (g, p) = (squad_normal(g), squad_normal(p));
        em += f64::from(u8::from(g == p));
        let mut left = g.clone();
        let common = p
            .iter()
            .filter(|w| {
                let at = left.iter().position(|x| x == *w);
                at.map(|i| left.remove(i)).is_some()
            })
            .count();
        if common > 0 {
            let (prec, rec) = (
                common as f64 / p.len() as f64,
                common as f64 / g.len() as f64,
            );
            f1 += 2.0 * prec * rec / (prec + rec);
        }
    }
    (em / gold.len() as f64, f1 / gold.len() as f64)
}

#[test]
fn squad_scores_normalise_as_squad_does() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // "The Stone." is "stone"; "red stone" shares one of two tokens with "stone": F1 2/3.
    let (em, f1) = squad_scores(&s(&["stone", "stone"]), &s(&["The Stone.", "red stone"]));
    assert_eq!(em, 0.5);
    assert!((f1 - (1.0 + 2.0 / 3.0) / 2.0).abs() < 1e-12, "{f1}");
}
