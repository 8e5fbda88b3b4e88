//! Static word vectors for `embeddings.word = "static"` / `"static-tuned"`: skip-gram vectors
//! trained on the texts the tokenizer was fitted on, once per tokenizer, dimension and
//! `[vectors]` settings, with their intrinsic check.

use super::files;
use super::inputs::texts_of;
use super::{Metrics, StageContext, thread_count};
use crate::config::VectorsConfig;
use crate::data::Tok;
use crate::experiment::plan::NamedData;
use crate::model;
use crate::runtime::{self, ParamStore};
use crate::train::skipgram::{
    IntrinsicSpec, Sampling, VectorsSpec, intrinsic_check, train_vectors,
};
use anyhow::{Context, Result, bail};
use std::path::Path;

/// The word-embedding table that `embeddings.word = "static"` fills with upstream vectors and
/// keeps fixed.
pub const STATIC_WORD: &str = "embeddings.word";

/// Trains static word vectors of dimension `dim` for a tokenizer (skip-gram with negative
/// sampling on the texts the tokenizer was fitted on, as `[vectors]` says), writes them into
/// `ctx.dir`, and runs the intrinsic check: nearest neighbours of `neighbours_of` (printed) and
/// the synonym-over-random cosine gap (a metric).
pub fn train_static_vectors(
    tokenizer_dir: &Path,
    fit_on: &[NamedData],
    dim: usize,
    cfg: &VectorsConfig,
    ctx: &StageContext,
) -> Result<Metrics> {
    let tok = Tok::load(&tokenizer_dir.join(files::TOKENIZER))?;
    let mut texts = Vec::new();
    for d in fit_on {
        texts.extend(texts_of(d, &mut Metrics::new())?);
    }
    let seqs = texts
        .iter()
        .map(|t| tok.encode(t))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let spec = VectorsSpec {
        window: cfg.window,
        negatives: cfg.negatives,
        subsample: (cfg.subsample > 0.0).then_some(cfg.subsample),
        sampling: Sampling::Epochs { epochs: cfg.epochs },
        lr: cfg.lr,
        ..VectorsSpec::word2vec(dim)
    };
    let (v, loss) = train_vectors(&seqs, tok.vocab_size(), &spec, thread_count(ctx.threads))?;
    let mut store = ParamStore::new();
    store.insert(model::IN_VECTORS, &[tok.vocab_size(), dim], &v)?;
    let mut meta = runtime::Metadata::new();
    meta.insert("skipgram_loss".into(), serde_json::json!(loss));
    runtime::save_checkpoint(&ctx.dir.join(files::VECTORS), &store, None, &meta)?;
    let mut metrics = Metrics::new();
    metrics.insert("vectors.skipgram_loss".into(), loss);
    intrinsic(&tok, &v, dim, cfg, &mut metrics)?;
    Ok(metrics)
}

/// The intrinsic check of `[vectors]`: prints the nearest neighbours of its words and records
/// the synonym pairs' mean cosine against random pairs'.
fn intrinsic(
    tok: &Tok,
    vectors: &[f32],
    dim: usize,
    cfg: &VectorsConfig,
    metrics: &mut Metrics,
) -> Result<()> {
    let pairs = match &cfg.synonyms {
        Some(path) => read_pairs(path)?,
        None => Vec::new(),
    };
    let pair_refs: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let words: Vec<&str> = cfg.neighbours_of.iter().map(String::as_str).collect();
    let (spec, _missing) = IntrinsicSpec::from_words(tok, &words, &pair_refs);
    let report = intrinsic_check(vectors, dim, &spec);
    for (id, near) in &report.neighbours {
        let list: Vec<String> = near
            .iter()
            .map(|(n, c)| format!("{} {c:.2}", tok.token(*n).unwrap_or_default()))
            .collect();
        eprintln!(
            "vectors: nearest to {}: {}",
            tok.token(*id).unwrap_or_default(),
            list.join(", ")
        );
    }
    if !spec.synonyms.is_empty() {
        eprintln!(
            "vectors: {} synonym pairs of one token each: mean cosine {:.3}, random pairs {:.3}, gap {:.3}",
            spec.synonyms.len(),
            report.synonym_cosine,
            report.random_cosine,
            report.cosine_gap()
        );
        metrics.insert("vectors.synonym_pairs".into(), spec.synonyms.len() as f64);
        metrics.insert("vectors.synonym_cosine".into(), report.synonym_cosine);
        metrics.insert("vectors.random_cosine".into(), report.random_cosine);
        metrics.insert("vectors.synonym_cosine_gap".into(), report.cosine_gap());
    }
    Ok(())
}

/// Word pairs from a TSV (optionally gzipped) with a header row: the first two columns.
fn read_pairs(path: &Path) -> Result<Vec<(String, String)>> {
    let text = crate::data::read_text(path)
        .with_context(|| format!("vectors.synonyms: reading {}", path.display()))?;
    let mut pairs = Vec::new();
    for (n, line) in text.lines.iter().enumerate().skip(1) {
        let mut cols = line.split('\t');
        match (cols.next(), cols.next()) {
            (Some(a), Some(b)) if !a.is_empty() && !b.is_empty() => {
                pairs.push((a.to_string(), b.to_string()))
            }
            _ => bail!(
                "{}:{}: vectors.synonyms expects two tab-separated words per line",
                path.display(),
                n + 1
            ),
        }
    }
    Ok(pairs)
}

/// The `[vocab, dim]` table a vectors stage wrote into `dir`.
pub fn load_static_vectors(dir: &Path) -> Result<Vec<f32>> {
    let ck = runtime::load_checkpoint(&dir.join(files::VECTORS))?;
    Ok(ck
        .params
        .get(model::IN_VECTORS)
        .context("vectors file without word2vec.in")?
        .to_vec())
}
