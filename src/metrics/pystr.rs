//! The few pieces of Python's `str` semantics the reference metric packages (sacrebleu,
//! rouge-score) rely on, so our text metrics split and strip exactly where theirs do.
//!
//! Python's `str.isspace()` is Rust's `char::is_whitespace` plus the four ASCII information
//! separators U+001C..U+001F (Python counts bidirectional classes B and S as whitespace; the
//! Unicode `White_Space` property that Rust follows does not).

/// Python's `str.isspace()` for one character.
pub(crate) fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `s.split()` (no argument): runs of whitespace separate, empty pieces dropped.
pub(crate) fn split(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_space).filter(|t| !t.is_empty())
}

/// Python's `s.rstrip()` (no argument).
pub(crate) fn rstrip(s: &str) -> &str {
    s.trim_end_matches(is_space)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_strip_follow_python() {
        // '\x1c' is whitespace to Python (and so to sacrebleu), not to `char::is_whitespace`.
        let s = "a\u{1c}b \u{a0}c\t\n";
        assert_eq!(split(s).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(rstrip(" x \u{1f}\u{3000}"), " x");
        assert_eq!(split("").count(), 0);
        assert_eq!(split("   ").count(), 0);
    }
}
