//! Texts to vectors with an exported encoder model: tokenize (`[CLS] text [SEP]`, truncated to
//! the model's length), batch with padding masked out, run the model, pool and optionally
//! L2-normalise on the host.

use super::onnx::{TOKEN_FEATURES, metadata};
use crate::data::Tok;
use crate::data::tokenizer::{CLS_ID, PAD_ID, SEP_ID};
use crate::model::Pooling;
use crate::runtime::{Feeds, Session, SessionOptions};
use anyhow::{Context, Result};

/// A loaded encoder ready to embed texts.
pub struct Embedder {
    session: Session,
    tok: Tok,
    max_len: usize,
    /// Pad every batch to `max_len` (models without a symbolic sequence axis).
    fixed_len: bool,
    segment: bool,
    d_model: Option<usize>,
}

/// How vectors are made from token features.
#[derive(Debug, Clone, Copy)]
pub struct EmbedOptions {
    pub pooling: Pooling,
    pub normalize: bool,
    pub batch_size: usize,
}

impl Embedder {
    /// An embedder over exported model bytes (see [`super::onnx::encoder_model`]) and its
    /// tokenizer. Models from other tools work when they have our input and output names; their
    /// length limit is then `max_len` if given, else 512.
    pub fn new(name: &str, bytes: &[u8], tok: Tok, threads: Option<usize>) -> Result<Embedder> {
        let meta = metadata(bytes);
        let get = |k: &str| {
            meta.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let opts = SessionOptions {
            intra_threads: threads,
            ..Default::default()
        };
        let session = Session::from_bytes(name, bytes, &opts)?;
        let segment = session.inputs().iter().any(|i| i.name == "token_type_ids");
        if !session.outputs().iter().any(|o| o.name == TOKEN_FEATURES) {
            anyhow::bail!(
                "{name}: the model has no output '{TOKEN_FEATURES}' (is it an embedlab export?)"
            );
        }
        let max_len = get("embedlab.max_len")
            .and_then(|v| v.parse().ok())
            .unwrap_or(512);
        let fixed_len = get("embedlab.dynamic_sequence").is_some_and(|v| v == "false");
        let d_model = get("embedlab.d_model").and_then(|v| v.parse().ok());
        Ok(Embedder {
            session,
            tok,
            max_len,
            fixed_len,
            segment,
            d_model,
        })
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Vectors of `texts`, one per text, in order.
    pub fn embed(&mut self, texts: &[&str], opts: &EmbedOptions) -> Result<Vec<Vec<f32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(opts.batch_size.max(1)) {
            out.extend(self.embed_batch(chunk, opts)?);
        }
        Ok(out)
    }

    /// Token ids `[CLS] text [SEP]` of each text, truncated to the model's length.
    pub fn token_ids(&self, texts: &[&str]) -> Result<Vec<Vec<i64>>> {
        let room = self.max_len.saturating_sub(2);
        texts
            .iter()
            .map(|t| {
                let ids = self.tok.encode(t)?;
                let mut row = vec![CLS_ID as i64];
                row.extend(ids.iter().take(room).map(|&i| i as i64));
                row.push(SEP_ID as i64);
                Ok(row)
            })
            .collect()
    }

    fn embed_batch(&mut self, texts: &[&str], opts: &EmbedOptions) -> Result<Vec<Vec<f32>>> {
        let rows = self.token_ids(texts)?;
        let b = rows.len();
        let t = if self.fixed_len {
            self.max_len
        } else {
            rows.iter().map(Vec::len).max().unwrap_or(2)
        };
        let mut ids = vec![PAD_ID as i64; b * t];
        let mut mask = vec![0i64; b * t];
        for (r, row) in rows.iter().enumerate() {
            ids[r * t..r * t + row.len()].copy_from_slice(row);
            mask[r * t..r * t + row.len()]
                .iter_mut()
                .for_each(|m| *m = 1);
        }
        let types = vec![0i64; b * t];
        let mut feeds = Feeds::new();
        feeds
            .i64("input_ids", &[b, t], &ids)
            .i64("attention_mask", &[b, t], &mask);
        if self.segment {
            feeds.i64("token_type_ids", &[b, t], &types);
        }
        let out = self.session.run(&feeds)?;
        let f = out.f32(TOKEN_FEATURES)?;
        let d = *f
            .shape
            .last()
            .context("token features without a feature axis")?;
        if let Some(dm) = self.d_model
            && dm != d
        {
            anyhow::bail!(
                "the model's token features have {d} values, its metadata says d_model {dm}"
            );
        }
        let mut vectors = Vec::with_capacity(b);
        for (feats, row) in f.data.chunks(t * d).zip(&rows) {
            let mut v = match opts.pooling {
                Pooling::Cls => feats[..d].to_vec(),
                Pooling::Last => {
                    let at = row.len().saturating_sub(1);
                    feats[at * d..(at + 1) * d].to_vec()
                }
                Pooling::Mean => {
                    let mut acc = vec![0f64; d];
                    let n = row.len();
                    for tok in feats.chunks(d).take(n) {
                        acc.iter_mut().zip(tok).for_each(|(a, x)| *a += *x as f64);
                    }
                    acc.into_iter().map(|a| (a / n as f64) as f32).collect()
                }
            };
            if opts.normalize {
                let norm = v
                    .iter()
                    .map(|x| (*x as f64) * (*x as f64))
                    .sum::<f64>()
                    .sqrt()
                    .max(1e-12);
                v.iter_mut().for_each(|x| *x = (*x as f64 / norm) as f32);
            }
            vectors.push(v);
        }
        Ok(vectors)
    }
}
