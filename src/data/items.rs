//! Items: examples and corpus lines tokenized into `batch::Item`s with their targets.
//!
//! Class labels map to their index in the dataset's label list (`IGNORE_INDEX` for a label not seen
//! in train, so it counts in neither the loss nor the gradient; scorers can still read the gold
//! label through `Batch::items`). Tagging aligns one tag per word to the word's first token;
//! the word's other tokens get `IGNORE_INDEX`.

use crate::data::batch::{IGNORE_INDEX, Item, Target};
use crate::data::error::Result;
use crate::data::objectives::SentencePair;
use crate::data::source::Example;
use crate::data::tokenizer::{Tok, word_starts};

fn index_of(labels: &[String], label: &str) -> i64 {
    labels
        .iter()
        .position(|l| l == label)
        .map(|i| i as i64)
        .unwrap_or(IGNORE_INDEX)
}

/// Unlabeled lines (for MLM / CLM).
pub fn corpus_items(lines: &[String], tok: &Tok) -> Result<Vec<Item>> {
    let texts: Vec<&str> = lines.iter().map(String::as_str).collect();
    Ok(tok
        .encode_all(&texts)?
        .into_iter()
        .map(|a| Item {
            a,
            b: None,
            target: Target::None,
        })
        .collect())
}

/// Single texts or pairs with a class label (`labels` is `Dataset::labels`).
pub fn class_items(examples: &[Example], tok: &Tok, labels: &[String]) -> Result<Vec<Item>> {
    examples
        .iter()
        .map(|e| {
            Ok(Item {
                a: tok.encode(&e.text)?,
                b: e.text_pair.as_deref().map(|p| tok.encode(p)).transpose()?,
                target: Target::Class(index_of(labels, &e.label)),
            })
        })
        .collect()
}

/// Tagging examples: whitespace-separated words, one tag per word in `label`
/// (`tags` is `Dataset::tag_labels()`; run `Dataset::check_tagging` first).
pub fn tag_items(examples: &[Example], tok: &Tok, tags: &[String]) -> Result<Vec<Item>> {
    examples
        .iter()
        .map(|e| {
            let words: Vec<&str> = e.text.split_whitespace().collect();
            let word_tags: Vec<i64> = e
                .label
                .split_whitespace()
                .map(|t| index_of(tags, t))
                .collect();
            let (ids, word_of) = tok.encode_words(&words)?;
            // Only a word's first token carries its tag.
            let mut targets = vec![IGNORE_INDEX; word_of.len()];
            for i in word_starts(&word_of) {
                targets[i] = word_tags.get(word_of[i]).copied().unwrap_or(IGNORE_INDEX);
            }
            Ok(Item {
                a: ids,
                b: None,
                target: Target::Tokens(targets),
            })
        })
        .collect()
}

/// NSP / SOP pairs of token ids, as pair items with class targets.
pub fn sentence_pair_items(pairs: Vec<SentencePair<Vec<u32>>>) -> Vec<Item> {
    pairs
        .into_iter()
        .map(|p| Item {
            a: p.a,
            b: Some(p.b),
            target: Target::Class(p.label),
        })
        .collect()
}
