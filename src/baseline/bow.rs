//! The bag-of-words baseline of a downstream task: fit on train, pick C on dev, score test once.
//!
//! - `Classify`: TF-IDF of `text` + multinomial logistic regression;
//! - `Pair`: the same over side-marked words of `text` (`a:word`) and `text_pair` (`b:word`);
//! - `Tag`: the most frequent train tag of each word (no C).
//!
//! Gold labels of dev or test that are not in the label list (unseen in train) are left out of
//! the scores, as the runner leaves them out.

use crate::baseline::error::{BaselineError, Result};
use crate::baseline::logistic::{Logistic, LogisticConfig, fit_grid};
use crate::baseline::tagger::MostFrequentTag;
use crate::baseline::tfidf::TfIdf;
use crate::baseline::tokenize::document_tokens;
use crate::data::Example;
use crate::metrics::accuracy_macro_f1;

/// The kind of downstream task the baseline stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BowTask {
    /// One text, one label (`text_pair` is ignored).
    Classify,
    /// Two texts, one label.
    Pair,
    /// One tag per whitespace-separated word.
    Tag,
}

/// The baseline's settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BowConfig {
    pub logistic: LogisticConfig,
}

/// Dev accuracy of one C of the grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CScore {
    pub c: f64,
    pub dev_accuracy: f64,
}

/// What the baseline scored.
#[derive(Debug, Clone, PartialEq)]
pub struct BowMetrics {
    /// Dev accuracy of the chosen C (of the tagger for `Tag`); NaN when dev has nothing to score.
    pub dev_accuracy: f64,
    pub test_accuracy: f64,
    pub test_macro_f1: f64,
    /// Span F1 of the test tags (conlleval, as the runner scores tagging); `None` but for `Tag`.
    pub test_span_f1: Option<f64>,
    /// The C picked on dev; `None` for `Tag`.
    pub c: Option<f64>,
    /// Dev accuracy of every C tried, in grid order (empty for `Tag`).
    pub grid: Vec<CScore>,
    /// The number of TF-IDF features (the number of distinct train words for `Tag`).
    pub features: usize,
}

/// Fits the baseline with the default settings (C grid `C_GRID`) and scores it.
/// `labels` is `Dataset::labels` for `Classify`/`Pair`, `Dataset::tag_labels()` for `Tag`;
/// class ids are indices into it.
pub fn fit_and_score(
    train: &[Example],
    dev: &[Example],
    test: &[Example],
    task: BowTask,
    labels: &[String],
) -> Result<BowMetrics> {
    fit_and_score_with(&BowConfig::default(), train, dev, test, task, labels)
}

/// `fit_and_score` with explicit settings.
pub fn fit_and_score_with(
    cfg: &BowConfig,
    train: &[Example],
    dev: &[Example],
    test: &[Example],
    task: BowTask,
    labels: &[String],
) -> Result<BowMetrics> {
    match task {
        BowTask::Classify => logistic(cfg, train, dev, test, false, labels),
        BowTask::Pair => logistic(cfg, train, dev, test, true, labels),
        BowTask::Tag => tagger(train, dev, test, labels),
    }
}

fn tagger(
    train: &[Example],
    dev: &[Example],
    test: &[Example],
    tags: &[String],
) -> Result<BowMetrics> {
    let t = MostFrequentTag::fit(train, tags)?;
    let (dev_accuracy, _) = accuracy_macro_f1(&t.pairs("dev", dev, tags)?, tags.len());
    let (test_accuracy, test_macro_f1) =
        accuracy_macro_f1(&t.pairs("test", test, tags)?, tags.len());
    let (_, _, test_span_f1) = t.spans("test", test, tags)?.precision_recall_f1();
    let words: std::collections::HashSet<&str> = train
        .iter()
        .flat_map(|e| e.text.split_whitespace())
        .collect();
    Ok(BowMetrics {
        dev_accuracy,
        test_accuracy,
        test_macro_f1,
        test_span_f1: Some(test_span_f1),
        c: None,
        grid: Vec::new(),
        features: words.len(),
    })
}

fn logistic(
    cfg: &BowConfig,
    train: &[Example],
    dev: &[Example],
    test: &[Example],
    pair: bool,
    labels: &[String],
) -> Result<BowMetrics> {
    if train.is_empty() {
        return Err(BaselineError::EmptyTrain);
    }
    if labels.is_empty() {
        return Err(BaselineError::NoLabels);
    }
    let y = train
        .iter()
        .enumerate()
        .map(|(index, e)| {
            label_id(labels, &e.label).ok_or_else(|| BaselineError::UnknownTrainLabel {
                index,
                label: e.label.clone(),
            })
        })
        .collect::<Result<Vec<usize>>>()?;
    let train_docs = documents("train", train, pair)?;
    let vectorizer = TfIdf::fit(&train_docs);
    if vectorizer.is_empty() {
        return Err(BaselineError::EmptyVocabulary);
    }
    let x_train = vectorizer.transform(&train_docs);
    let (dev_rows, dev_gold) = scored("dev", dev, pair, labels)?;
    if dev_gold.is_empty() {
        return Err(BaselineError::EmptyDev);
    }
    let x_dev = vectorizer.transform(&dev_rows);

    let mut grid = Vec::with_capacity(cfg.logistic.grid.len());
    let mut best: Option<(f64, f64, Logistic)> = None;
    for (c, model) in fit_grid(&x_train, &y, &cfg.logistic)? {
        let (dev_accuracy, _) =
            accuracy_macro_f1(&zip_pred(&dev_gold, model.predict(&x_dev)), labels.len());
        grid.push(CScore { c, dev_accuracy });
        if best.as_ref().is_none_or(|(_, acc, _)| dev_accuracy > *acc) {
            best = Some((c, dev_accuracy, model));
        }
    }
    let Some((c, dev_accuracy, model)) = best else {
        return Err(BaselineError::EmptyGrid); // fit_grid has refused an empty grid already
    };

    let (test_rows, test_gold) = scored("test", test, pair, labels)?;
    let test_pred = model.predict(&vectorizer.transform(&test_rows));
    let (test_accuracy, test_macro_f1) =
        accuracy_macro_f1(&zip_pred(&test_gold, test_pred), labels.len());
    Ok(BowMetrics {
        dev_accuracy,
        test_accuracy,
        test_macro_f1,
        test_span_f1: None,
        c: Some(c),
        grid,
        features: vectorizer.len(),
    })
}

fn label_id(labels: &[String], label: &str) -> Option<usize> {
    labels.iter().position(|l| l == label)
}

/// The token lists of `examples` (side-marked pairs when `pair`).
fn documents(split: &'static str, examples: &[Example], pair: bool) -> Result<Vec<Vec<String>>> {
    examples
        .iter()
        .enumerate()
        .map(|(index, e)| {
            if !pair {
                return Ok(document_tokens(&e.text, None));
            }
            let second = e
                .text_pair
                .as_deref()
                .ok_or(BaselineError::MissingPair { split, index })?;
            Ok(document_tokens(&e.text, Some(second)))
        })
        .collect()
}

/// The documents of the examples whose label is in `labels`, and those labels' ids.
fn scored(
    split: &'static str,
    examples: &[Example],
    pair: bool,
    labels: &[String],
) -> Result<(Vec<Vec<String>>, Vec<usize>)> {
    let docs = documents(split, examples, pair)?;
    Ok(docs
        .into_iter()
        .zip(examples)
        .filter_map(|(d, e)| label_id(labels, &e.label).map(|id| (d, id)))
        .unzip())
}

/// (gold, predicted) class ids as `metrics::accuracy_macro_f1` takes them.
fn zip_pred(gold: &[usize], pred: Vec<usize>) -> Vec<(i64, i64)> {
    gold.iter()
        .zip(pred)
        .map(|(&g, p)| (g as i64, p as i64))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str, pair: Option<&str>, label: &str) -> Example {
        Example {
            text: text.into(),
            text_pair: pair.map(String::from),
            label: label.into(),
        }
    }

    fn labels(list: &[&str]) -> Vec<String> {
        list.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn pair_features_tell_the_sides_apart() {
        // The label says on which side "cat" is: both classes have the same words overall, so
        // only side-marked features can fit it.
        let train: Vec<Example> = (0..20)
            .map(|i| {
                if i % 2 == 0 {
                    ex("the cat sat", Some("the dog ran"), "left")
                } else {
                    ex("the dog ran", Some("the cat sat"), "right")
                }
            })
            .collect();
        let dev = vec![
            ex("cat", Some("dog"), "left"),
            ex("dog", Some("cat"), "right"),
        ];
        let test = vec![
            ex("my cat", Some("your dog"), "left"),
            ex("his dog", Some("our cat"), "right"),
            ex("cat", Some("dog"), "unseen"), // not in the label list: left out of the scores
        ];
        let labels = labels(&["left", "right"]);
        let m = fit_and_score(&train, &dev, &test, BowTask::Pair, &labels).unwrap();
        assert_eq!(
            (m.dev_accuracy, m.test_accuracy, m.test_macro_f1),
            (1.0, 1.0, 1.0)
        );
        assert_eq!(m.grid.len(), 5);
        // Features: a:the a:cat a:sat a:dog a:ran, and the same five on side b.
        assert_eq!(m.features, 10);
        // Ties on dev go to the first C of the grid.
        assert_eq!(
            m.c,
            Some(m.grid.iter().find(|s| s.dev_accuracy == 1.0).unwrap().c)
        );

        // Classify reads `text` only: the, cat, sat, dog, ran.
        let c = fit_and_score(&train, &dev, &test, BowTask::Classify, &labels).unwrap();
        assert_eq!(c.features, 5);
        let pair_missing = vec![ex("cat", None, "left")];
        assert!(matches!(
            fit_and_score(&train, &pair_missing, &test, BowTask::Pair, &labels),
            Err(BaselineError::MissingPair {
                split: "dev",
                index: 0
            })
        ));
    }

    #[test]
    fn tag_task_scores_words() {
        let tags = labels(&["O", "B-LOC"]);
        let train = vec![
            ex("in Paris", None, "O B-LOC"),
            ex("in Rome", None, "O B-LOC"),
        ];
        let dev = vec![ex("in Rome", None, "O B-LOC")];
        // "Oslo" is unknown: the most frequent tag overall (O and B-LOC tie at 2: O, listed first).
        let test = vec![ex("Paris Oslo", None, "B-LOC B-LOC")];
        let m = fit_and_score(&train, &dev, &test, BowTask::Tag, &tags).unwrap();
        assert_eq!(m.dev_accuracy, 1.0);
        assert_eq!(m.test_accuracy, 0.5);
        // Gold has B-LOC only: tp 1, fn 1 -> F1 2/3.
        assert!((m.test_macro_f1 - 2.0 / 3.0).abs() < 1e-15);
        assert_eq!((m.c, m.features), (None, 3));
        // Gold spans LOC(0) and LOC(1); predicted B-LOC then O (Oslo unknown): P 1, R 1/2.
        assert!((m.test_span_f1.unwrap() - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn errors_name_what_is_missing() {
        let labels = labels(&["x", "y"]);
        let train = vec![ex("some words", None, "x"), ex("other words", None, "z")];
        assert!(matches!(
            fit_and_score(&train, &train, &train, BowTask::Classify, &labels),
            Err(BaselineError::UnknownTrainLabel { index: 1, .. })
        ));
        let one_letter = vec![ex("a b", None, "x"), ex("c", None, "y")];
        assert!(matches!(
            fit_and_score(
                &one_letter,
                &one_letter,
                &one_letter,
                BowTask::Classify,
                &labels
            ),
            Err(BaselineError::EmptyVocabulary)
        ));
        let ok = vec![ex("some words", None, "x"), ex("other words", None, "y")];
        assert!(matches!(
            fit_and_score(&ok, &[], &ok, BowTask::Classify, &labels),
            Err(BaselineError::EmptyDev)
        ));
    }
}
