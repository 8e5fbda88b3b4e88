//! The tokenizer files of a Hugging Face directory: `tokenizer.json` (the run's own tokenizer
//! with BERT's `[CLS] a [SEP] (b [SEP])` template and the run's truncation),
//! `tokenizer_config.json` and `special_tokens_map.json`.
//!
//! Another tool's `encode(text)` then gives the ids the run saw: the same tokens and ids (ours,
//! `[PAD]`=0 ... `[MASK]`=4), `[CLS]`/`[SEP]` added, cut to the run's `seq_len` by dropping
//! tokens from the end (`max_length` counts the special tokens, as our rows do). Pairs are
//! truncated longest first, as the run does, with one difference that no Hugging Face setting
//! removes: when both texts must be cut, the first is the longer and the room left is odd,
//! Hugging Face gives the spare token to the first text and the run to the second. Token-type
//! ids are 0 for `[CLS] a [SEP]` and 1 for `b [SEP]`, or 0 everywhere for an encoder without
//! segment embeddings (its token-type table has one row). No padding is set: the tools pad with
//! an attention mask, which keeps padding out of attention and pooling.
//!
//! `tokenizer_config.json` names the generic `PreTrainedTokenizerFast`, which uses tokenizer.json
//! as it is (`BertTokenizerFast` would replace a cased normaliser by its lowercasing default).

use super::HfError;
use crate::data::Tok;
use crate::data::tokenizer::{CLS, CLS_ID, MASK, PAD, SEP, SEP_ID, UNK};
use serde_json::{Value, json};
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

fn tok_err(e: impl std::fmt::Display) -> HfError {
    HfError::Tokenizer {
        message: e.to_string(),
    }
}

/// `tokenizer.json` of `tok` for encoders that see `seq_len` tokens at most, with token-type
/// ids 1 for a pair's second text when the encoder has `segment` embeddings.
pub fn tokenizer_json(tok: &Tok, seq_len: usize, segment: bool) -> Result<String, HfError> {
    let json = tok.to_json().map_err(tok_err)?;
    let mut t: Tokenizer = json.parse().map_err(tok_err)?;
    let b = if segment { 1 } else { 0 };
    let template = TemplateProcessing::builder()
        .try_single(format!("{CLS}:0 $A:0 {SEP}:0"))
        .map_err(tok_err)?
        .try_pair(format!("{CLS}:0 $A:0 {SEP}:0 $B:{b} {SEP}:{b}"))
        .map_err(tok_err)?
        .special_tokens(vec![(CLS, CLS_ID), (SEP, SEP_ID)])
        .build()
        .map_err(tok_err)?;
    t.with_post_processor(Some(template));
    t.with_truncation(Some(TruncationParams {
        direction: TruncationDirection::Right,
        max_length: seq_len,
        strategy: TruncationStrategy::LongestFirst,
        stride: 0,
    }))
    .map_err(tok_err)?;
    t.with_padding(None);
    t.to_string(true).map_err(tok_err)
}

/// `special_tokens_map.json`.
pub fn special_tokens_map() -> Value {
    json!({
        "cls_token": CLS,
        "mask_token": MASK,
        "pad_token": PAD,
        "sep_token": SEP,
        "unk_token": UNK,
    })
}

/// `tokenizer_config.json`: the generic fast tokenizer over tokenizer.json, `seq_len` as the
/// model's maximum length (what `truncation=True` cuts to), and the special tokens.
pub fn tokenizer_config(seq_len: usize, segment: bool) -> Value {
    let mut c = special_tokens_map();
    c["tokenizer_class"] = "PreTrainedTokenizerFast".into();
    c["model_max_length"] = seq_len.into();
    c["padding_side"] = "right".into();
    c["truncation_side"] = "right".into();
    c["clean_up_tokenization_spaces"] = false.into();
    c["model_input_names"] = if segment {
        json!(["input_ids", "token_type_ids", "attention_mask"])
    } else {
        json!(["input_ids", "attention_mask"])
    };
    c
}
