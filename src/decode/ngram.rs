//! `no_repeat_ngram_size`: which next tokens would repeat an n-gram (HF's
//! `NoRepeatNGramLogitsProcessor`).

/// The tokens that would complete, after `sequence`, an n-gram of size `n` that already occurs in
/// it: for every n-gram in the sequence whose first n-1 tokens equal the sequence's last n-1, its
/// last token. None when `n` is 0 or the sequence is shorter than `n`. A token may be listed
/// more than once.
pub fn banned_tokens(sequence: &[u32], n: usize) -> Vec<u32> {
    if n == 0 || sequence.len() < n {
        return Vec::new();
    }
    let suffix = &sequence[sequence.len() + 1 - n..];
    sequence
        .windows(n)
        .filter(|w| &w[..n - 1] == suffix)
        .map(|w| w[n - 1])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bans_follow_hf() {
        // HF's docstring example: bigrams of [40, 2883, 2712, 4346]; after 2712 (the suffix) the
        // bigram (2712, 4346) exists, so 4346 is banned.
        assert_eq!(banned_tokens(&[40, 2883, 2712, 4346, 2712], 2), [4346]);
        // No complete bigram ends a repeat of the suffix 4346.
        assert_eq!(banned_tokens(&[40, 2883, 2712, 4346], 2), Vec::<u32>::new());
        // Size 1 bans every token already present.
        assert_eq!(banned_tokens(&[3, 1, 3], 1), [3, 1, 3]);
        // Trigrams: suffix (1, 2) occurs twice, followed by 3 and by 4.
        assert_eq!(banned_tokens(&[1, 2, 3, 1, 2, 4, 1, 2], 3), [3, 4]);
        assert!(banned_tokens(&[1, 2], 3).is_empty());
        assert!(banned_tokens(&[1, 1, 1], 0).is_empty());
    }
}
