//! TF-IDF features with scikit-learn's `TfidfVectorizer` defaults, over already tokenized
//! documents (see `tokenize`).
//!
//! - vocabulary: every token of the fitted documents, sorted (scikit-learn sorts it too, so the
//!   columns come in the same order); tokens never seen in fit are dropped at transform;
//! - tf: the raw count of the token in the document (`sublinear_tf = False`);
//! - idf: `ln((1 + n) / (1 + df)) + 1`, n documents and df of them holding the token, both
//!   counted on the fitted documents only (`smooth_idf = True`);
//! - each row scaled to unit Euclidean norm (`norm = "l2"`); a row with no known token stays 0.
//!
//! linfa-preprocessing's `TfIdfVectorizer` was not used: its `transform` takes document
//! frequencies from the documents being transformed (dev and test would get their own idf),
//! it does not normalise rows, and its column order follows a `HashMap`, so the solver's
//! rounding, and with it the metrics, would change from run to run.

use ndarray016::Array2;
use std::collections::BTreeMap;

/// A fitted vectorizer: the sorted vocabulary and each token's idf.
#[derive(Debug, Clone, PartialEq)]
pub struct TfIdf {
    /// Token -> column.
    index: BTreeMap<String, usize>,
    /// The idf of each column.
    idf: Vec<f64>,
}

impl TfIdf {
    /// Learns the vocabulary and the idf from documents given as token lists.
    pub fn fit(docs: &[Vec<String>]) -> TfIdf {
        let mut df: BTreeMap<&str, usize> = BTreeMap::new();
        for doc in docs {
            let mut seen: Vec<&str> = doc.iter().map(String::as_str).collect();
            seen.sort_unstable();
            seen.dedup();
            for token in seen {
                *df.entry(token).or_default() += 1;
            }
        }
        let n = docs.len() as f64;
        let idf = df
            .values()
            .map(|&d| ((1.0 + n) / (1.0 + d as f64)).ln() + 1.0)
            .collect();
        let index = df
            .into_keys()
            .enumerate()
            .map(|(column, token)| (token.to_string(), column))
            .collect();
        TfIdf { index, idf }
    }

    /// The number of features (columns).
    pub fn len(&self) -> usize {
        self.idf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.idf.is_empty()
    }

    /// The column of a token, if it is in the vocabulary.
    pub fn column(&self, token: &str) -> Option<usize> {
        self.index.get(token).copied()
    }

    /// The idf of a column.
    pub fn idf(&self, column: usize) -> f64 {
        self.idf[column]
    }

    /// One l2-normalised row per document, `[docs, len()]`, dense.
    pub fn transform(&self, docs: &[Vec<String>]) -> Array2<f64> {
        let mut x = Array2::<f64>::zeros((docs.len(), self.len()));
        for (doc, mut row) in docs.iter().zip(x.rows_mut()) {
            for token in doc {
                if let Some(c) = self.column(token) {
                    row[c] += 1.0;
                }
            }
            for (c, v) in row.iter_mut().enumerate() {
                *v *= self.idf[c];
            }
            let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
            if norm > 0.0 {
                row.mapv_inplace(|v| v / norm);
            }
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(texts: &[&str]) -> Vec<Vec<String>> {
        texts
            .iter()
            .map(|t| t.split_whitespace().map(String::from).collect())
            .collect()
    }

    #[test]
    fn idf_and_l2_rows_match_sklearn_defaults() {
        // sklearn: TfidfVectorizer().fit(["cat dog dog", "cat"]): vocabulary ["cat", "dog"],
        // idf = ln(3/3) + 1 = 1 for cat (in both), ln(3/2) + 1 for dog (in one).
        let train = docs(&["cat dog dog", "cat"]);
        let v = TfIdf::fit(&train);
        assert_eq!(v.len(), 2);
        assert_eq!((v.column("cat"), v.column("dog")), (Some(0), Some(1)));
        let idf_dog = 1.5f64.ln() + 1.0;
        assert_eq!(v.idf(0), 1.0);
        assert_eq!(v.idf(1), idf_dog);
        // Row 0: (1·1, 2·idf_dog) / its norm; row 1: (1, 0).
        let x = v.transform(&train);
        let norm = (1.0 + 4.0 * idf_dog * idf_dog).sqrt();
        assert!((x[[0, 0]] - 1.0 / norm).abs() < 1e-15);
        assert!((x[[0, 1]] - 2.0 * idf_dog / norm).abs() < 1e-15);
        assert_eq!((x[[1, 0]], x[[1, 1]]), (1.0, 0.0));
    }

    #[test]
    fn unknown_tokens_are_dropped_and_empty_rows_stay_zero() {
        let v = TfIdf::fit(&docs(&["cat dog"]));
        let x = v.transform(&docs(&["bird", "dog bird"]));
        assert_eq!(x.row(0).to_vec(), [0.0, 0.0]);
        assert_eq!(x.row(1).to_vec(), [0.0, 1.0]);
    }
}
