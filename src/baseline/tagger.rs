//! The tagging baseline: each word gets the tag it carried most often in train (ties: the tag
//! listed first), and a word never seen in train gets the most frequent tag overall.
//! Words are the whitespace-separated words of `text`, compared exactly (case included), as
//! the tag tasks align one tag per whitespace-separated word.

use crate::baseline::error::{BaselineError, Result};
use crate::data::Example;
use crate::metrics::SpanCounts;
use std::collections::HashMap;

/// A fitted most-frequent-tag tagger over tag ids (indices into the tag list it was fitted with).
#[derive(Debug, Clone, PartialEq)]
pub struct MostFrequentTag {
    by_word: HashMap<String, usize>,
    fallback: usize,
}

impl MostFrequentTag {
    /// Counts tags per word over `train`; `tags` is the tag list (`Dataset::tag_labels()`),
    /// which must hold every train tag.
    pub fn fit(train: &[Example], tags: &[String]) -> Result<MostFrequentTag> {
        if train.is_empty() {
            return Err(BaselineError::EmptyTrain);
        }
        if tags.is_empty() {
            return Err(BaselineError::NoLabels);
        }
        let mut counts: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut overall = vec![0usize; tags.len()];
        for (index, e) in train.iter().enumerate() {
            for (word, tag) in aligned("train", index, e)? {
                let id = tag_id(tags, tag).ok_or_else(|| BaselineError::UnknownTrainLabel {
                    index,
                    label: tag.to_string(),
                })?;
                counts.entry(word).or_insert_with(|| vec![0; tags.len()])[id] += 1;
                overall[id] += 1;
            }
        }
        let by_word = counts
            .into_iter()
            .map(|(w, c)| (w.to_string(), most_frequent(&c)))
            .collect();
        Ok(MostFrequentTag {
            by_word,
            fallback: most_frequent(&overall),
        })
    }

    /// The tag id of one word.
    pub fn tag(&self, word: &str) -> usize {
        self.by_word.get(word).copied().unwrap_or(self.fallback)
    }

    /// (gold, predicted) tag ids of every word of `examples` whose gold tag is in `tags`
    /// (a tag unseen in train is left out of the scores, as the runner leaves it out), as
    /// `metrics::accuracy_macro_f1` takes them.
    pub fn pairs(
        &self,
        split: &'static str,
        examples: &[Example],
        tags: &[String],
    ) -> Result<Vec<(i64, i64)>> {
        let mut out = Vec::new();
        for (index, e) in examples.iter().enumerate() {
            for (word, tag) in aligned(split, index, e)? {
                if let Some(gold) = tag_id(tags, tag) {
                    out.push((gold as i64, self.tag(word) as i64));
                }
            }
        }
        Ok(out)
    }

    /// Span counts (conlleval) over `examples`: per example, the gold and predicted tags of the
    /// words whose gold tag is in `tags`, as the runner reads spans from the labelled positions.
    pub fn spans(
        &self,
        split: &'static str,
        examples: &[Example],
        tags: &[String],
    ) -> Result<SpanCounts> {
        let mut counts = SpanCounts::default();
        for (index, e) in examples.iter().enumerate() {
            let (gold, pred): (Vec<&str>, Vec<&str>) = aligned(split, index, e)?
                .into_iter()
                .filter(|(_, tag)| tag_id(tags, tag).is_some())
                .map(|(word, tag)| (tag, tags.get(self.tag(word)).map_or("O", String::as_str)))
                .unzip();
            counts.add(&gold, &pred);
        }
        Ok(counts)
    }
}

fn tag_id(tags: &[String], tag: &str) -> Option<usize> {
    tags.iter().position(|t| t == tag)
}

/// The index of the largest count; the first one on ties.
fn most_frequent(counts: &[usize]) -> usize {
    let mut best = 0;
    for (i, &c) in counts.iter().enumerate() {
        if c > counts[best] {
            best = i;
        }
    }
    best
}

/// (word, tag) pairs of one example, checking there is one tag per word.
fn aligned<'a>(
    split: &'static str,
    index: usize,
    e: &'a Example,
) -> Result<Vec<(&'a str, &'a str)>> {
    let words: Vec<&str> = e.text.split_whitespace().collect();
    let tags: Vec<&str> = e.label.split_whitespace().collect();
    if words.len() != tags.len() {
        return Err(BaselineError::TagCount {
            split,
            index,
            tags: tags.len(),
            words: words.len(),
        });
    }
    Ok(words.into_iter().zip(tags).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(text: &str, label: &str) -> Example {
        Example {
            text: text.into(),
            text_pair: None,
            label: label.into(),
        }
    }

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn most_frequent_tag_per_word_and_overall_for_unknown_words() {
        let tags = tags(&["O", "B-LOC", "B-PER"]);
        let train = [
            ex("Paris is nice", "B-LOC O O"),
            ex("Paris Hilton is here", "B-PER B-PER O O"),
            ex("Paris again", "B-LOC O"),
            // "Jordan": one LOC, one PER -> the tie goes to the tag listed first (B-LOC).
            ex("Jordan Jordan", "B-LOC B-PER"),
        ];
        let t = MostFrequentTag::fit(&train, &tags).unwrap();
        assert_eq!(t.tag("Paris"), 1); // LOC twice, PER once
        assert_eq!(t.tag("Hilton"), 2);
        assert_eq!(t.tag("is"), 0);
        assert_eq!(t.tag("Jordan"), 1);
        // Unknown words (and other casings) get the most frequent tag overall, O.
        assert_eq!(t.tag("London"), 0);
        assert_eq!(t.tag("paris"), 0);
        // A gold tag missing from the list is left out of the pairs.
        let pairs = t
            .pairs("test", &[ex("Paris Rome", "B-LOC B-MISC")], &tags)
            .unwrap();
        assert_eq!(pairs, [(1, 1)]);
        // Spans: gold B-LOC (Paris) found; the B-MISC word is left out like its pair.
        let spans = t
            .spans("test", &[ex("Paris Rome", "B-LOC B-MISC")], &tags)
            .unwrap();
        assert_eq!((spans.correct, spans.predicted, spans.gold), (1, 1, 1));
        // "is" predicted O where gold says B-PER: one gold span missed, none predicted.
        let spans = t
            .spans("test", &[ex("is Paris", "B-PER B-PER")], &tags)
            .unwrap();
        assert_eq!((spans.correct, spans.predicted, spans.gold), (0, 1, 2));
    }

    #[test]
    fn tag_count_mismatch_names_split_and_example() {
        let tags = tags(&["O"]);
        let err = MostFrequentTag::fit(&[ex("a b", "O")], &tags).unwrap_err();
        assert!(matches!(
            err,
            BaselineError::TagCount {
                split: "train",
                index: 0,
                tags: 1,
                words: 2
            }
        ));
        let err = MostFrequentTag::fit(&[ex("a", "X")], &tags).unwrap_err();
        assert!(matches!(
            err,
            BaselineError::UnknownTrainLabel { index: 0, .. }
        ));
    }
}
