//! Words as scikit-learn's `TfidfVectorizer` sees them by default: the text lowercased, then
//! every match of `(?u)\b\w\w+\b` (runs of two or more word characters; one-letter words and
//! punctuation are dropped). Rust's `regex` is Unicode-aware by default, like Python's `(?u)`;
//! the two definitions of `\w` agree on letters, digits and `_`, and differ only on rare marks.
//!
//! A pair's features mark their side: the words of `text` become `a:word`, those of `text_pair`
//! `b:word`, so "the same word on both sides" and "a word on one side" are different features.

use regex::Regex;
use std::sync::LazyLock;

static WORD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\w\w+\b").expect("the word pattern is a valid regex"));

/// The words of `text`, lowercased, in order (scikit-learn's default analyzer).
pub fn words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    WORD.find_iter(&lower)
        .map(|m| m.as_str().to_string())
        .collect()
}

/// The tokens of one document: the words of `text`, or for a pair the words of `text` as
/// `a:word` followed by the words of `pair` as `b:word`.
pub fn document_tokens(text: &str, pair: Option<&str>) -> Vec<String> {
    match pair {
        None => words(text),
        Some(second) => words(text)
            .into_iter()
            .map(|w| format!("a:{w}"))
            .chain(words(second).into_iter().map(|w| format!("b:{w}")))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_follow_sklearn_default_token_pattern() {
        // One-letter words ("a", "I") and punctuation go; "don't" splits into "don" ("t" is one
        // letter); digits and underscores are word characters; case folds.
        assert_eq!(
            words("A Dog, I think: don't feed_it 42 times!"),
            ["dog", "think", "don", "feed_it", "42", "times"]
        );
        assert_eq!(words("Über café"), ["über", "café"]);
        assert!(words("a b c .").is_empty());
    }

    #[test]
    fn pair_tokens_are_marked_by_side() {
        assert_eq!(
            document_tokens("The cat", Some("the dog")),
            ["a:the", "a:cat", "b:the", "b:dog"]
        );
        assert_eq!(document_tokens("The cat", None), ["the", "cat"]);
    }
}
