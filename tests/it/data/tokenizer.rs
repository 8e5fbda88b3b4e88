//! Tokenizer kinds: fitting, encoding, special ids, save/load, CJK per character.

use embedlab::config::{TokenizerConfig, TokenizerKind};
use embedlab::data::tokenizer::{self, CLS_ID, MASK_ID, PAD_ID, SEP_ID, SPECIALS, UNK_ID};
use embedlab::data::{DataError, Tok};

const ENGLISH: &[&str] = &[
    "In the beginning God created the heaven and the earth.",
    "And the earth was without form, and void; and darkness was upon the face of the deep.",
    "And God said, Let there be light: and there was light.",
    "And God saw the light, that it was good: and God divided the light from the darkness.",
    "And God called the light Day, and the darkness he called Night.",
    "And the evening and the morning were the first day.",
];

fn cfg(kind: TokenizerKind, vocab_size: usize) -> TokenizerConfig {
    TokenizerConfig {
        kind,
        vocab_size,
        min_frequency: 1,
        ..TokenizerConfig::default()
    }
}

fn check_specials(tok: &Tok) {
    for (i, s) in SPECIALS.iter().enumerate() {
        assert_eq!(tok.id(s), Some(i as u32), "{s}");
    }
    assert_eq!((PAD_ID, UNK_ID, CLS_ID, SEP_ID, MASK_ID), (0, 1, 2, 3, 4));
}

#[test]
fn every_kind_fits_and_encodes() {
    for kind in [
        TokenizerKind::Char,
        TokenizerKind::Word,
        TokenizerKind::Bpe,
        TokenizerKind::Wordpiece,
    ] {
        let tok = tokenizer::fit(&cfg(kind, 200), ENGLISH).unwrap();
        check_specials(&tok);
        assert!(
            tok.vocab_size() > 5 && tok.vocab_size() <= 200,
            "{kind:?}: {}",
            tok.vocab_size()
        );
        let ids = tok.encode("And God said, Let there be light").unwrap();
        assert!(!ids.is_empty(), "{kind:?}");
        assert!(
            ids.iter()
                .all(|&i| i >= 5 && (i as usize) < tok.vocab_size()),
            "{kind:?}: {ids:?}"
        );
        // Deterministic: fitting twice gives the same tokenizer.json.
        let again = tokenizer::fit(&cfg(kind, 200), ENGLISH).unwrap();
        assert_eq!(tok.to_json().unwrap(), again.to_json().unwrap(), "{kind:?}");
    }
}

#[test]
fn word_kind_splits_words_and_punctuation() {
    let tok = tokenizer::fit(&cfg(TokenizerKind::Word, 1000), ENGLISH).unwrap();
    assert_eq!(
        tok.tokens("God said, Let").unwrap(),
        ["god", "said", ",", "let"]
    );
    let ids = tok.encode("God zebra").unwrap();
    assert_eq!(ids[1], UNK_ID);
    let stats = tok.stats(&["God zebra", "light"]).unwrap();
    assert_eq!(stats.tokens, 3);
    assert!((stats.unk_rate - 1.0 / 3.0).abs() < 1e-9);
    assert!((stats.avg_len - 1.5).abs() < 1e-9);
}

#[test]
fn wordpiece_uses_continuation_pieces() {
    let tok = tokenizer::fit(&cfg(TokenizerKind::Wordpiece, 60), ENGLISH).unwrap();
    let tokens = tok.tokens("darkness").unwrap();
    assert!(
        tokens.len() > 1 && tokens[1..].iter().all(|t| t.starts_with("##")),
        "{tokens:?}"
    );
}

#[test]
fn chinese_round_trips_through_char_tokenizer() {
    let text = "天地玄黄，宇宙洪荒。日月盈昃，辰宿列张。";
    let tok = tokenizer::fit(&cfg(TokenizerKind::Char, 100), &[text]).unwrap();
    let tokens = tok.tokens(text).unwrap();
    let chars: Vec<String> = text.chars().map(String::from).collect();
    assert_eq!(tokens, chars);
    let ids = tok.encode(text).unwrap();
    let back: String = ids.iter().map(|&i| tok.token(i).unwrap()).collect();
    assert_eq!(back, text);
    assert_eq!(tok.stats(&[text]).unwrap().unk_rate, 0.0);
}

#[test]
fn cjk_is_per_character_for_subword_kinds() {
    let texts = ["我爱北京天安门", "北京是中国的首都", "the capital 北京"];
    for kind in [
        TokenizerKind::Word,
        TokenizerKind::Wordpiece,
        TokenizerKind::Bpe,
    ] {
        let tok = tokenizer::fit(&cfg(kind, 300), &texts).unwrap();
        assert_eq!(tok.tokens("北京").unwrap(), ["北", "京"], "{kind:?}");
    }
}

#[test]
fn save_and_load_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenizer.json");
    let tok = tokenizer::fit(&cfg(TokenizerKind::Wordpiece, 100), ENGLISH).unwrap();
    tok.save(&path).unwrap();
    let loaded = Tok::load(&path).unwrap();
    assert_eq!(
        loaded.encode("the light of day").unwrap(),
        tok.encode("the light of day").unwrap()
    );
    let via_file = tokenizer::fit(
        &TokenizerConfig {
            kind: TokenizerKind::File,
            path: Some(path.clone()),
            ..TokenizerConfig::default()
        },
        &[],
    )
    .unwrap();
    assert_eq!(via_file.vocab_size(), tok.vocab_size());
}

#[test]
fn encode_words_maps_tokens_to_words() {
    let tok = tokenizer::fit(&cfg(TokenizerKind::Wordpiece, 60), ENGLISH).unwrap();
    let (ids, word_of) = tok
        .encode_words(&["the", "darkness", "\u{0}", "light"])
        .unwrap();
    assert_eq!(ids.len(), word_of.len());
    // Every word has at least one token, in order.
    for w in 0..4 {
        assert!(word_of.contains(&w), "{word_of:?}");
    }
    assert!(word_of.windows(2).all(|p| p[0] <= p[1]));
}

#[test]
fn errors() {
    let e = tokenizer::fit(&cfg(TokenizerKind::Word, 3), ENGLISH).unwrap_err();
    assert!(e.to_string().contains("vocab_size"), "{e}");
    let e = tokenizer::fit(&cfg(TokenizerKind::Word, 100), &["", "  "]).unwrap_err();
    assert!(e.to_string().contains("no text"), "{e}");
    let e = Tok::load(std::path::Path::new("/nonexistent/tokenizer.json")).unwrap_err();
    assert!(matches!(e, DataError::MissingFile { .. }), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, "{not json").unwrap();
    let e = Tok::load(&path).unwrap_err();
    assert!(e.to_string().contains("bad.json"), "{e}");
}
