//! Tokenizers: fitting, saving, loading and applying them, all through the `tokenizers` crate.
//!
//! Kinds (`TokenizerKind`):
//! - `char`: one token per non-space character (a WordLevel model over characters);
//! - `word`: whole words, split at whitespace and punctuation (WordLevel);
//! - `bpe`: byte-pair-encoding subwords (BPE);
//! - `wordpiece`: BERT-style subwords with the `##` continuation prefix (WordPiece, fitted via
//!   BPE for determinism: see `fit_wordpiece`);
//! - `file`: an existing tokenizer.json.
//!
//! Every fitted kind normalises with BERT's normaliser (control characters removed, whitespace
//! unified, optional lowercasing, accents kept) with CJK handling on, so Chinese, Japanese and
//! Korean ideographs always become one token per character, whatever the kind.
//!
//! The special tokens have fixed ids that batching relies on: `[PAD]`=0, `[UNK]`=1, `[CLS]`=2,
//! `[SEP]`=3, `[MASK]`=4. A fitted tokenizer puts them first; a loaded one must have them at those
//! ids (a tokenizer.json saved by embedlab does).

use crate::config::{TokenizerConfig, TokenizerKind};
use crate::data::error::{DataError, Result};
use std::path::Path;
use tokenizers::models::bpe::{BPE, BpeTrainer};
use tokenizers::models::wordlevel::{WordLevel, WordLevelTrainer};
use tokenizers::models::{ModelWrapper, TrainerWrapper};
use tokenizers::normalizers::BertNormalizer;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::pre_tokenizers::metaspace::{Metaspace, PrependScheme};
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::pre_tokenizers::split::{Split as SplitPre, SplitPattern};
use tokenizers::pre_tokenizers::whitespace::WhitespaceSplit;
use tokenizers::{AddedToken, SplitDelimiterBehavior, Tokenizer};

pub const PAD: &str = "[PAD]";
pub const UNK: &str = "[UNK]";
pub const CLS: &str = "[CLS]";
pub const SEP: &str = "[SEP]";
pub const MASK: &str = "[MASK]";
pub const PAD_ID: u32 = 0;
pub const UNK_ID: u32 = 1;
pub const CLS_ID: u32 = 2;
pub const SEP_ID: u32 = 3;
pub const MASK_ID: u32 = 4;
/// The special tokens in id order; ids below `NUM_SPECIAL` are special.
pub const SPECIALS: [&str; 5] = [PAD, UNK, CLS, SEP, MASK];
pub const NUM_SPECIAL: u32 = 5;

/// A fitted or loaded tokenizer.
#[derive(Clone)]
pub struct Tok {
    inner: Tokenizer,
}

impl std::fmt::Debug for Tok {
    // The derived form would print the whole vocabulary.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tok")
            .field("vocab_size", &self.vocab_size())
            .finish_non_exhaustive()
    }
}

/// How a tokenizer fares on a set of texts.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct TokStats {
    pub texts: usize,
    pub tokens: usize,
    /// Share of tokens that are `[UNK]`.
    pub unk_rate: f64,
    /// Average number of tokens per text (without specials).
    pub avg_len: f64,
}

fn tok_err(e: impl std::fmt::Display) -> DataError {
    DataError::Tokenizer {
        message: e.to_string(),
    }
}

/// Fits a tokenizer of `cfg.kind` on `texts`. For `kind = "file"`, loads `cfg.path` instead
/// (the caller resolves a relative path against the experiment file's directory).
pub fn fit(cfg: &TokenizerConfig, texts: &[&str]) -> Result<Tok> {
    if cfg.kind == TokenizerKind::File {
        return load_file(cfg);
    }
    if cfg.vocab_size <= NUM_SPECIAL as usize {
        return Err(DataError::InvalidConfig {
            what: "tokenizer".into(),
            message: format!(
                "vocab_size = {}: must be larger than the {NUM_SPECIAL} special tokens",
                cfg.vocab_size
            ),
        });
    }
    if texts.iter().all(|t| t.trim().is_empty()) {
        return Err(DataError::Tokenizer {
            message: "no text to fit on (hint: check tokenizer.fit_on)".into(),
        });
    }
    let specials: Vec<AddedToken> = SPECIALS
        .iter()
        .map(|s| AddedToken::from(*s, true))
        .collect();
    let (model, mut trainer): (ModelWrapper, TrainerWrapper) = match cfg.kind {
        TokenizerKind::Char | TokenizerKind::Word => (
            WordLevel::builder()
                .unk_token(UNK.into())
                .build()
                .map_err(tok_err)?
                .into(),
            WordLevelTrainer::builder()
                .vocab_size(cfg.vocab_size)
                .min_frequency(cfg.min_frequency)
                .special_tokens(specials)
                .show_progress(false)
                .build()
                .map_err(tok_err)?
                .into(),
        ),
        TokenizerKind::Bpe => (
            BPE::builder()
                .unk_token(UNK.into())
                .build()
                .map_err(tok_err)?
                .into(),
            BpeTrainer::builder()
                .vocab_size(cfg.vocab_size)
                .min_frequency(cfg.min_frequency)
                .special_tokens(specials)
                .show_progress(false)
                .build()
                .into(),
        ),
        TokenizerKind::Wordpiece => return fit_wordpiece(cfg, texts, specials),
        TokenizerKind::File => return load_file(cfg),
    };
    let mut inner = Tokenizer::new(model);
    inner.with_normalizer(Some(normalizer(cfg)));
    let pre: PreTokenizerWrapper = if cfg.kind == TokenizerKind::Char {
        let each_char = SplitPre::new(
            SplitPattern::Regex(r"\S".into()),
            SplitDelimiterBehavior::Isolated,
            false,
        )
        .map_err(tok_err)?;
        Sequence::new(vec![WhitespaceSplit.into(), each_char.into()]).into()
    } else {
        BertPreTokenizer.into()
    };
    inner.with_pre_tokenizer(Some(pre));
    inner
        .train(&mut trainer, texts.iter().copied())
        .map_err(tok_err)?;
    let tok = Tok { inner };
    tok.check_specials()
        .map_err(|message| DataError::Tokenizer { message })?;
    Ok(tok)
}

/// `fit`, with a relative `path` (kind = "file") resolved against the experiment file's directory.
pub fn fit_in(cfg: &TokenizerConfig, base_dir: &Path, texts: &[&str]) -> Result<Tok> {
    match &cfg.path {
        Some(path) if cfg.kind == TokenizerKind::File => {
            let cfg = TokenizerConfig {
                path: Some(crate::data::source::resolve(base_dir, path)),
                ..cfg.clone()
            };
            fit(&cfg, texts)
        }
        _ => fit(cfg, texts),
    }
}

fn load_file(cfg: &TokenizerConfig) -> Result<Tok> {
    match &cfg.path {
        Some(path) => Tok::load(path),
        None => Err(DataError::InvalidConfig {
            what: "tokenizer".into(),
            message: "kind = \"file\" needs path = \"…/tokenizer.json\"".into(),
        }),
    }
}

fn normalizer(cfg: &TokenizerConfig) -> BertNormalizer {
    BertNormalizer::new(true, true, Some(false), cfg.lowercase)
}

/// Marks the start of a word while training the BPE behind a WordPiece vocabulary
/// (a private-use character, so it does not occur in text).
const WORD_START: char = '\u{E000}';

/// WordPiece, fitted deterministically.
///
/// The crate's `WordPieceTrainer` numbers the `##` continuation pieces in hash-map order, which
/// is random per process, and merge ties are broken by those numbers, so two fits of the same
/// text can differ. Instead we train a plain BPE (whose ids start from the sorted alphabet, so
/// its ties break the same way every time) on words marked with `WORD_START`, and convert:
/// `WORD_START`+piece becomes the word-initial piece, any other piece becomes `##`piece. Every
/// alphabet character gets both forms so no word falls back to `[UNK]` for lack of a first piece.
fn fit_wordpiece(cfg: &TokenizerConfig, texts: &[&str], specials: Vec<AddedToken>) -> Result<Tok> {
    let mut bpe = Tokenizer::new(
        BPE::builder()
            .unk_token(UNK.into())
            .build()
            .map_err(tok_err)?,
    );
    bpe.with_normalizer(Some(normalizer(cfg)));
    bpe.with_pre_tokenizer(Some(Sequence::new(vec![
        BertPreTokenizer.into(),
        Metaspace::new(WORD_START, PrependScheme::Always, false).into(),
    ])));
    let mut trainer: TrainerWrapper = BpeTrainer::builder()
        .vocab_size(cfg.vocab_size)
        .min_frequency(cfg.min_frequency)
        .special_tokens(specials.clone())
        .show_progress(false)
        .build()
        .into();
    bpe.train(&mut trainer, texts.iter().copied())
        .map_err(tok_err)?;
    let mut by_id: Vec<(u32, String)> = bpe
        .get_vocab(false)
        .into_iter()
        .map(|(t, i)| (i, t))
        .collect();
    by_id.sort();
    let mut pieces: Vec<String> = SPECIALS.iter().map(|s| s.to_string()).collect();
    let mut alphabet_pieces = pieces.len();
    let mut seen: std::collections::HashSet<String> = pieces.iter().cloned().collect();
    for (_, token) in by_id {
        if SPECIALS.contains(&token.as_str()) {
            continue;
        }
        let forms: Vec<String> = if let Some(rest) = token.strip_prefix(WORD_START) {
            if rest.is_empty() {
                vec![]
            } else {
                vec![rest.to_string()]
            }
        } else if token.chars().count() == 1 {
            vec![token.clone(), format!("##{token}")]
        } else {
            vec![format!("##{token}")]
        };
        let single = token.chars().count() == 1;
        for f in forms {
            if seen.insert(f.clone()) {
                pieces.push(f);
            }
        }
        if single {
            alphabet_pieces = pieces.len();
        }
    }
    // Keep the alphabet whatever the size; drop the last-learned merges beyond vocab_size.
    pieces.truncate(cfg.vocab_size.max(alphabet_pieces));
    let vocab: serde_json::Map<String, serde_json::Value> = pieces
        .into_iter()
        .enumerate()
        .map(|(i, p)| (p, serde_json::Value::from(i as u32)))
        .collect();
    let model: ModelWrapper = serde_json::from_value(serde_json::json!({
        "type": "WordPiece",
        "unk_token": UNK,
        "continuing_subword_prefix": "##",
        "max_input_chars_per_word": 100,
        "vocab": vocab,
    }))
    .map_err(tok_err)?;
    let mut inner = Tokenizer::new(model);
    inner.with_normalizer(Some(normalizer(cfg)));
    inner.with_pre_tokenizer(Some(BertPreTokenizer));
    inner.add_special_tokens(&specials);
    let tok = Tok { inner };
    tok.check_specials()
        .map_err(|message| DataError::Tokenizer { message })?;
    Ok(tok)
}

/// Each token's `[start, end)` in its text, in Unicode characters.
pub type CharOffsets = Vec<(usize, usize)>;

impl Tok {
    /// Loads a tokenizer.json; its special tokens must have the fixed ids.
    pub fn load(path: &Path) -> Result<Tok> {
        let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
        Tok::from_json(&bytes).map_err(|e| match e {
            DataError::Tokenizer { message } => DataError::TokenizerFile {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        })
    }

    /// Reads a tokenizer from tokenizer.json bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Tok> {
        let inner = Tokenizer::from_bytes(bytes).map_err(tok_err)?;
        let tok = Tok { inner };
        tok.check_specials()
            .map_err(|message| DataError::Tokenizer { message })?;
        Ok(tok)
    }

    /// Writes tokenizer.json (compact; deterministic for a given tokenizer).
    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_json()?).map_err(|e| DataError::io(path, e))
    }

    /// The tokenizer.json text (for hashing into stage keys, or embedding beside an export).
    pub fn to_json(&self) -> Result<String> {
        self.inner.to_string(false).map_err(tok_err)
    }

    /// Writes tokenizer.json for use outside embedlab, beside an exported model: the same
    /// tokenizer with BERT's post-processor, so that other tools' `encode(text)` (special tokens
    /// on, their default) give the `[CLS] text [SEP]` ids the model expects, and `encode(a, b)` the
    /// pair with its type ids. embedlab itself encodes without special tokens and adds them,
    /// so it reads this file unchanged.
    pub fn save_for_export(&self, path: &Path) -> Result<()> {
        let mut inner = self.inner.clone();
        inner.with_post_processor(Some(tokenizers::processors::bert::BertProcessing::new(
            ("[SEP]".to_string(), SEP_ID),
            ("[CLS]".to_string(), CLS_ID),
        )));
        let json = inner.to_string(false).map_err(tok_err)?;
        std::fs::write(path, json).map_err(|e| DataError::io(path, e))
    }

    fn check_specials(&self) -> std::result::Result<(), String> {
        let mut wrong = Vec::new();
        for (want, s) in SPECIALS.iter().enumerate() {
            match self.inner.token_to_id(s) {
                Some(id) if id == want as u32 => {}
                Some(id) => wrong.push(format!("{s}={id}")),
                None => wrong.push(format!("{s} missing")),
            }
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "special tokens must be [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4; found {}",
                wrong.join(", ")
            ))
        }
    }

    /// Token ids of a text, without special tokens.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>> {
        Ok(self
            .inner
            .encode(text, false)
            .map_err(tok_err)?
            .get_ids()
            .to_vec())
    }

    /// Token ids of a text, without special tokens, with each token's span in the text as
    /// character offsets `[start, end)` (Unicode characters, as SQuAD's `answer_start` counts).
    pub fn encode_with_offsets(&self, text: &str) -> Result<(Vec<u32>, CharOffsets)> {
        let enc = self
            .inner
            .encode_char_offsets(text, false)
            .map_err(tok_err)?;
        Ok((enc.get_ids().to_vec(), enc.get_offsets().to_vec()))
    }

    /// Token ids of many texts (in parallel), without special tokens.
    pub fn encode_all(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>> {
        let encodings = self
            .inner
            .encode_batch(texts.to_vec(), false)
            .map_err(tok_err)?;
        Ok(encodings
            .into_iter()
            .map(|e| e.get_ids().to_vec())
            .collect())
    }

    /// Token ids of a text given as words (for tagging), with the index of the word each token
    /// comes from. A word that yields no token (only characters the normaliser removes) gets one
    /// `[UNK]`, so every word has at least one token.
    pub fn encode_words(&self, words: &[&str]) -> Result<(Vec<u32>, Vec<usize>)> {
        let mut ids = Vec::new();
        let mut word_of = Vec::new();
        if words.is_empty() {
            return Ok((ids, word_of));
        }
        let enc = self.inner.encode(words, false).map_err(tok_err)?;
        let mut next_word = 0usize;
        for (&id, w) in enc.get_ids().iter().zip(enc.get_word_ids()) {
            let w = w.map(|w| w as usize).unwrap_or(next_word.saturating_sub(1));
            while next_word < w {
                ids.push(UNK_ID);
                word_of.push(next_word);
                next_word += 1;
            }
            ids.push(id);
            word_of.push(w);
            next_word = next_word.max(w + 1);
        }
        while next_word < words.len() {
            ids.push(UNK_ID);
            word_of.push(next_word);
            next_word += 1;
        }
        Ok((ids, word_of))
    }

    /// The tokens of a text as strings (for inspection and tests).
    pub fn tokens(&self, text: &str) -> Result<Vec<String>> {
        Ok(self
            .inner
            .encode(text, false)
            .map_err(tok_err)?
            .get_tokens()
            .to_vec())
    }

    /// Number of ids, specials included.
    pub fn vocab_size(&self) -> usize {
        self.inner.get_vocab_size(true)
    }

    pub fn id(&self, token: &str) -> Option<u32> {
        self.inner.token_to_id(token)
    }

    pub fn token(&self, id: u32) -> Option<String> {
        self.inner.id_to_token(id)
    }

    /// UNK rate and average length over `texts`.
    pub fn stats(&self, texts: &[&str]) -> Result<TokStats> {
        let (mut tokens, mut unk) = (0usize, 0usize);
        for ids in self.encode_all(texts)? {
            tokens += ids.len();
            unk += ids.iter().filter(|&&i| i == UNK_ID).count();
        }
        Ok(TokStats {
            texts: texts.len(),
            tokens,
            unk_rate: if tokens == 0 {
                0.0
            } else {
                unk as f64 / tokens as f64
            },
            avg_len: if texts.is_empty() {
                0.0
            } else {
                tokens as f64 / texts.len() as f64
            },
        })
    }
}

/// Positions of the tokens that start a word, given the word index of every token (the second
/// half of [`Tok::encode_words`]): the first token, and every token whose word differs from the
/// one before. A tagging example is labelled, scored and predicted at these positions only.
pub fn word_starts(word_of: &[usize]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut last = None;
    for (i, &w) in word_of.iter().enumerate() {
        if last != Some(w) {
            starts.push(i);
        }
        last = Some(w);
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::word_starts;

    #[test]
    fn a_word_starts_where_its_index_changes() {
        assert_eq!(word_starts(&[]), Vec::<usize>::new());
        assert_eq!(word_starts(&[0, 0, 1, 2, 2, 2, 3]), [0, 2, 3, 6]);
        // Only a change counts, not a new value: a repeated index after another word starts anew.
        assert_eq!(word_starts(&[0, 1, 0]), [0, 1, 2]);
    }
}
