//! The decoding settings: the subset of Hugging Face's `GenerationConfig` that greedy and beam
//! search read, with HF's defaults.

use super::error::DecodeError;

/// When beam search stops (HF's `early_stopping`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EarlyStopping {
    /// HF `False` (the default): stop once `num_beams` hypotheses are finished and the best
    /// running beam, scored at its current length, cannot beat the worst of them.
    #[default]
    Heuristic,
    /// HF `True`: stop as soon as `num_beams` hypotheses are finished.
    WhenFull,
    /// HF `"never"`: as `Heuristic`, but with a positive length penalty the running beam is
    /// scored at the longest length it could reach (`max_new_tokens`), so the search only stops
    /// when no better hypothesis can exist.
    Never,
}

/// What to generate and how (HF `GenerationConfig`'s fields of the same names).
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationConfig {
    /// At most this many tokens after the prompt, EOS included. HF's default limit is
    /// `max_length = 20` tokens, prompt included; ours counts new tokens only and defaults to 20.
    pub max_new_tokens: usize,
    /// 1: greedy search; more: beam search with this many beams.
    pub num_beams: usize,
    /// A finished hypothesis scores `sum_logprobs / len^length_penalty`, `len` its new tokens
    /// (EOS included): above 0 favours longer outputs, below 0 shorter ones (default 1.0).
    pub length_penalty: f64,
    pub early_stopping: EarlyStopping,
    /// Above 0: a token that would complete an n-gram of this size already in the sequence
    /// (prompt included, as HF does for decoder-only models) is banned (default 0: off).
    pub no_repeat_ngram_size: usize,
    /// How many hypotheses to return per prompt, best first (at most `num_beams`; default 1).
    pub num_return_sequences: usize,
    /// The token that ends a hypothesis; `None`: every hypothesis runs to `max_new_tokens`.
    pub eos_token_id: Option<u32>,
    /// What `padded` writes after a shorter hypothesis; `None`: the EOS token (HF's fallback).
    pub pad_token_id: Option<u32>,
}

impl Default for GenerationConfig {
    fn default() -> Self {
        GenerationConfig {
            max_new_tokens: 20,
            num_beams: 1,
            length_penalty: 1.0,
            early_stopping: EarlyStopping::Heuristic,
            no_repeat_ngram_size: 0,
            num_return_sequences: 1,
            eos_token_id: None,
            pad_token_id: None,
        }
    }
}

impl GenerationConfig {
    /// The padding token: `pad_token_id`, else `eos_token_id` (HF sets pad to EOS when unset).
    pub fn pad(&self) -> Option<u32> {
        self.pad_token_id.or(self.eos_token_id)
    }

    /// Checks the settings against a model's vocabulary size.
    pub fn validate(&self, vocab_size: usize) -> Result<(), DecodeError> {
        let bad = |key, value: String, expected| {
            Err(DecodeError::Setting {
                key,
                value,
                expected,
            })
        };
        if self.max_new_tokens == 0 {
            return bad("max_new_tokens", "0".into(), "at least 1");
        }
        if self.num_beams == 0 {
            return bad("num_beams", "0".into(), "at least 1 (1 is greedy search)");
        }
        if self.num_return_sequences == 0 || self.num_return_sequences > self.num_beams {
            return bad(
                "num_return_sequences",
                self.num_return_sequences.to_string(),
                "between 1 and num_beams",
            );
        }
        if !self.length_penalty.is_finite() {
            return bad(
                "length_penalty",
                self.length_penalty.to_string(),
                "a finite number",
            );
        }
        if let Some(eos) = self.eos_token_id
            && eos as usize >= vocab_size
        {
            return bad(
                "eos_token_id",
                eos.to_string(),
                "a token id below the model's vocabulary size",
            );
        }
        Ok(())
    }
}
