//! Static word vectors for `embeddings.word = "static"`: skip-gram vectors trained on the texts
//! the tokenizer was fitted on, once per tokenizer and dimension.

use super::files;
use super::inputs::texts_of;
use super::{Metrics, thread_count};
use crate::data::Tok;
use crate::experiment::plan::NamedData;
use crate::experiment::vectors::{VectorsSpec, train_vectors};
use crate::model;
use crate::runtime::{self, ParamStore};
use anyhow::{Context, Result};
use std::path::Path;

/// The word-embedding table that `embeddings.word = "static"` fills with upstream vectors and
/// keeps fixed.
pub const STATIC_WORD: &str = "embeddings.word";

/// Trains static word vectors of dimension `dim` for a tokenizer (skip-gram with negative
/// sampling on the texts the tokenizer was fitted on) and writes them into `dir`.
pub fn train_static_vectors(
    tokenizer_dir: &Path,
    fit_on: &[NamedData],
    dim: usize,
    dir: &Path,
    threads: Option<usize>,
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
    let spec = VectorsSpec::new(dim, 1);
    let (v, loss) = train_vectors(&seqs, tok.vocab_size(), &spec, thread_count(threads))?;
    let mut store = ParamStore::new();
    store.insert(model::IN_VECTORS, &[tok.vocab_size(), dim], &v)?;
    let mut meta = runtime::Metadata::new();
    meta.insert("skipgram_loss".into(), serde_json::json!(loss));
    runtime::save_checkpoint(&dir.join(files::VECTORS), &store, None, &meta)?;
    let mut metrics = Metrics::new();
    metrics.insert("vectors.skipgram_loss".into(), loss);
    Ok(metrics)
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
