//! The tokenizer stage: fit a tokenizer on the named corpora and datasets, or load a file.

use super::Metrics;
use super::files;
use super::inputs::texts_of;
use crate::config;
use crate::data::{self, Tok};
use crate::experiment::plan::NamedData;
use anyhow::{Context, Result};
use std::path::Path;

/// Fits the tokenizer on the named corpora and datasets; writes `tokenizer.json` into `dir`.
pub fn fit_tokenizer(
    cfg: &config::TokenizerConfig,
    fit_on: &[NamedData],
    dir: &Path,
) -> Result<Metrics> {
    let mut metrics = Metrics::new();
    let tok = if cfg.kind == config::TokenizerKind::File {
        let path = cfg
            .path
            .as_ref()
            .context("tokenizer.kind = \"file\" needs tokenizer.path")?;
        Tok::load(path)?
    } else {
        let mut texts = Vec::new();
        for d in fit_on {
            texts.extend(texts_of(d, &mut metrics)?);
        }
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let tok = data::fit(cfg, &refs)?;
        let stats = tok.stats(&refs)?;
        metrics.insert("tokenizer.unk_rate".into(), stats.unk_rate);
        metrics.insert("tokenizer.avg_tokens".into(), stats.avg_len);
        tok
    };
    metrics.insert("tokenizer.vocab_size".into(), tok.vocab_size() as f64);
    tok.save(&dir.join(files::TOKENIZER))?;
    Ok(metrics)
}
