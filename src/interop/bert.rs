//! Importing a BERT-family model directory (Hugging Face layout: `config.json`,
//! `model.safetensors`, `tokenizer.json`) as our encoder.
//!
//! Names map onto ours (`embeddings.word_embeddings.weight` → `embeddings.word`,
//! `encoder.layer.N.attention.self.{query,key,value}` → `encoder.layerN.attn.qkv`, ...), with an
//! optional `bert.` prefix. PyTorch `Linear` weights are `[out, in]` and ours `[in, out]`, so they
//! are transposed; query, key and value are concatenated column-wise into our fused projection
//! (head h uses columns `h·dh..(h+1)·dh` of each, as in BERT). BERT is post-LN with exact (erf)
//! GELU, as our `NormPlacement::Post` and `Activation::Gelu`; the LayerNorm epsilon comes from
//! config.json. The pooler (`pooler.dense`) is not part of our encoder and is left out.
//!
//! The word-embedding rows are permuted with the vocabulary (see [`super::vocab`]). With
//! `type_vocab_size = 2` the segment table is kept (`segment = true`); with 1, its only row is
//! added into the position table, which is what BERT computes for single-segment input.

use super::vocab::{AdoptedVocab, adopt_tokenizer, permute_rows};
use crate::model::{
    self, Activation, EncoderSpec, NormPlacement, PositionEmbedding, WordEmbedding,
};
use crate::runtime::ParamStore;
use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "config.json";
pub const WEIGHTS_FILE: &str = "model.safetensors";
pub const TOKENIZER_FILE: &str = "tokenizer.json";

/// What went wrong importing a model directory; every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("{path}: cannot import:\n  - {}", problems.join("\n  - "))]
    Weights {
        path: PathBuf,
        problems: Vec<String>,
    },
}

fn file_err(path: &Path, message: impl Into<String>) -> ImportError {
    ImportError::File {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// The fields of a Hugging Face `config.json` that fix a BERT encoder.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BertConfig {
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    pub max_position_embeddings: usize,
    pub vocab_size: usize,
    #[serde(default = "default_type_vocab")]
    pub type_vocab_size: usize,
    #[serde(default = "default_eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "default_act")]
    pub hidden_act: String,
    #[serde(default = "default_dropout")]
    pub hidden_dropout_prob: f64,
    #[serde(default)]
    pub position_embedding_type: Option<String>,
    #[serde(default)]
    pub model_type: Option<String>,
}

fn default_type_vocab() -> usize {
    2
}
fn default_eps() -> f64 {
    1e-12
}
fn default_act() -> String {
    "gelu".into()
}
fn default_dropout() -> f64 {
    0.1
}

impl BertConfig {
    pub fn read(dir: &Path) -> Result<BertConfig, ImportError> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| file_err(&path, e.to_string()))?;
        let c: BertConfig = serde_json::from_str(&text)
            .map_err(|e| file_err(&path, format!("not a BERT config: {e}")))?;
        c.check().map_err(|m| file_err(&path, m))?;
        Ok(c)
    }

    fn check(&self) -> Result<(), String> {
        if let Some(t) = &self.model_type
            && !matches!(
                t.as_str(),
                "bert" | "roberta" | "xlm-roberta" | "electra" | "camembert"
            )
        {
            return Err(format!("model_type \"{t}\" is not a BERT-family encoder"));
        }
        if !matches!(self.hidden_act.as_str(), "gelu" | "relu") {
            return Err(format!(
                "hidden_act \"{}\" is not supported (exact \"gelu\" or \"relu\")",
                self.hidden_act
            ));
        }
        if let Some(p) = &self.position_embedding_type
            && p != "absolute"
        {
            return Err(format!(
                "position_embedding_type \"{p}\" is not supported (\"absolute\")"
            ));
        }
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err(format!(
                "hidden_size {} is not divisible by num_attention_heads {}",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if !(1..=2).contains(&self.type_vocab_size) {
            return Err(format!(
                "type_vocab_size {} is not supported (1 or 2)",
                self.type_vocab_size
            ));
        }
        Ok(())
    }

    /// Our encoder for this config, with `vocab` word rows and `max_len` positions
    /// (at most `max_position_embeddings`).
    pub fn spec(&self, vocab: usize, max_len: usize) -> EncoderSpec {
        EncoderSpec {
            vocab,
            d_model: self.hidden_size,
            heads: self.num_attention_heads,
            ffn: self.intermediate_size,
            depth: self.num_hidden_layers,
            max_len: max_len.min(self.max_position_embeddings),
            dropout: self.hidden_dropout_prob,
            activation: if self.hidden_act == "relu" {
                Activation::Relu
            } else {
                Activation::Gelu
            },
            norm: NormPlacement::Post,
            word: WordEmbedding::Learned,
            position: PositionEmbedding::Learned,
            segment: self.type_vocab_size == 2,
            causal: false,
            ln_eps: self.layer_norm_eps,
            tie_output: true,
            masked_packing: false,
        }
    }
}

/// An imported model: its encoder, parameters under our names, and tokenizer.
#[derive(Debug)]
pub struct Imported {
    pub config: BertConfig,
    pub spec: EncoderSpec,
    pub params: ParamStore,
    pub vocab: AdoptedVocab,
    /// File tensors not used (the pooler, buffers such as `position_ids`).
    pub unused: Vec<String>,
}

/// Whether `dir` looks like a BERT-family model directory.
pub fn is_model_dir(dir: &Path) -> bool {
    dir.join(CONFIG_FILE).is_file() && dir.join(WEIGHTS_FILE).is_file()
}

/// Reads the tokenizer of a model directory with our special-token ids.
pub fn read_vocab(dir: &Path) -> Result<AdoptedVocab, ImportError> {
    let path = dir.join(TOKENIZER_FILE);
    let bytes = std::fs::read(&path).map_err(|e| file_err(&path, e.to_string()))?;
    adopt_tokenizer(&bytes).map_err(|m| file_err(&path, m))
}

/// Imports the model directory `dir` with at most `max_len` positions (`usize::MAX`: all).
pub fn import_dir(dir: &Path, max_len: usize) -> Result<Imported, ImportError> {
    let config = BertConfig::read(dir)?;
    let vocab = read_vocab(dir)?;
    let path = dir.join(WEIGHTS_FILE);
    let bytes = std::fs::read(&path).map_err(|e| file_err(&path, e.to_string()))?;
    let st = SafeTensors::deserialize(&bytes)
        .map_err(|e| file_err(&path, format!("not a safetensors file: {e}")))?;
    let prefix = if st.names().iter().any(|n| n.starts_with("bert.")) {
        "bert."
    } else {
        ""
    };
    let tok_vocab = vocab.tok.vocab_size();
    if tok_vocab > config.vocab_size {
        return Err(file_err(
            &dir.join(TOKENIZER_FILE),
            format!(
                "has {tok_vocab} tokens, config.json vocab_size is {}",
                config.vocab_size
            ),
        ));
    }
    let spec = config.spec(config.vocab_size, max_len);
    let mut w = Weights {
        st: &st,
        prefix,
        used: BTreeSet::new(),
        problems: Vec::new(),
    };
    let params = map_params(&config, &spec, &vocab, &mut w);
    if !w.problems.is_empty() {
        return Err(ImportError::Weights {
            path,
            problems: w.problems,
        });
    }
    let params = params.map_err(|m| ImportError::Weights {
        path: path.clone(),
        problems: vec![m],
    })?;
    let unused = st
        .names()
        .into_iter()
        .filter(|n| !w.used.contains(*n))
        .map(str::to_string)
        .collect();
    Ok(Imported {
        config,
        spec,
        params,
        vocab,
        unused,
    })
}

struct Weights<'a> {
    st: &'a SafeTensors<'a>,
    prefix: &'a str,
    used: BTreeSet<String>,
    problems: Vec<String>,
}

impl Weights<'_> {
    /// The tensor `name` (tried with the prefix, then without; `alt` also tried for LayerNorm's
    /// old gamma/beta names) as f32, checked against `shape`. Problems are collected.
    fn get(&mut self, name: &str, alt: Option<&str>, shape: &[usize]) -> Vec<f32> {
        let candidates = [Some(name), alt]
            .into_iter()
            .flatten()
            .flat_map(|n| [format!("{}{n}", self.prefix), n.to_string()]);
        for key in candidates {
            let Ok(t) = self.st.tensor(&key) else {
                continue;
            };
            self.used.insert(key.clone());
            if t.shape() != shape {
                self.problems.push(format!(
                    "'{key}' has shape {:?}, expected {shape:?}",
                    t.shape()
                ));
                return vec![0.0; shape.iter().product()];
            }
            return match to_f32(t.dtype(), t.data()) {
                Some(v) => v,
                None => {
                    self.problems.push(format!(
                        "'{key}' is {:?}; F32, F16, BF16 and F64 are supported",
                        t.dtype()
                    ));
                    vec![0.0; shape.iter().product()]
                }
            };
        }
        self.problems
            .push(format!("'{}{name}' is missing", self.prefix));
        vec![0.0; shape.iter().product()]
    }

    /// LayerNorm `weight`/`bias` (or `gamma`/`beta`) of `base`.
    fn norm(&mut self, base: &str, d: usize) -> (Vec<f32>, Vec<f32>) {
        let w = self.get(
            &format!("{base}.weight"),
            Some(&format!("{base}.gamma")),
            &[d],
        );
        let b = self.get(&format!("{base}.bias"), Some(&format!("{base}.beta")), &[d]);
        (w, b)
    }

    /// A torch Linear (`[out, in]` weight) as our `[in, out]` weight and bias.
    fn linear(&mut self, base: &str, inp: usize, out: usize) -> (Vec<f32>, Vec<f32>) {
        let w = self.get(&format!("{base}.weight"), None, &[out, inp]);
        let b = self.get(&format!("{base}.bias"), None, &[out]);
        (transpose(&w, out, inp), b)
    }
}

fn to_f32(dtype: Dtype, data: &[u8]) -> Option<Vec<f32>> {
    Some(match dtype {
        Dtype::F32 => data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Dtype::F64 => data
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()) as f32)
            .collect(),
        Dtype::BF16 => data
            .chunks_exact(2)
            .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
            .collect(),
        Dtype::F16 => data
            .chunks_exact(2)
            .map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]])))
            .collect(),
        _ => return None,
    })
}

/// IEEE half to single precision (subnormals, infinities and NaN included).
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match exp {
        0 if frac == 0 => sign,
        0 => {
            // Subnormal: value = frac · 2^-24.
            let v = frac as f32 * f32::powi(2.0, -24);
            return if sign != 0 { -v } else { v };
        }
        0x1f => sign | 0x7f80_0000 | (frac << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

/// `[rows, cols]` row-major to `[cols, rows]` (the import's layout change, and the HF export's
/// inverse of it).
pub(crate) fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; m.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = m[r * cols + c];
        }
    }
    out
}

/// Our parameters, in the order the encoder declares them, filled from the file's tensors.
fn map_params(
    c: &BertConfig,
    spec: &EncoderSpec,
    vocab: &AdoptedVocab,
    w: &mut Weights,
) -> Result<ParamStore, String> {
    let (d, f) = (c.hidden_size, c.intermediate_size);
    let decls = model::features_graph(spec, 1, 2, None, crate::graph::DType::F32)
        .map_err(|e| e.to_string())?
        .params;
    let mut values: std::collections::HashMap<String, Vec<f32>> = std::collections::HashMap::new();
    let word = w.get(
        "embeddings.word_embeddings.weight",
        None,
        &[c.vocab_size, d],
    );
    values.insert(
        "embeddings.word".into(),
        permute_rows(&word, d, &vocab.perm),
    );
    let pos = w.get(
        "embeddings.position_embeddings.weight",
        None,
        &[c.max_position_embeddings, d],
    );
    let mut pos = pos[..spec.max_len * d].to_vec();
    let types = w.get(
        "embeddings.token_type_embeddings.weight",
        None,
        &[c.type_vocab_size, d],
    );
    if spec.segment {
        values.insert("embeddings.segment".into(), types);
    } else {
        for row in pos.chunks_mut(d) {
            row.iter_mut().zip(&types[..d]).for_each(|(p, t)| *p += t);
        }
    }
    values.insert("embeddings.position".into(), pos);
    let (g, b) = w.norm("embeddings.LayerNorm", d);
    values.insert("embeddings.norm.weight".into(), g);
    values.insert("embeddings.norm.bias".into(), b);
    for l in 0..c.num_hidden_layers {
        let hf = format!("encoder.layer.{l}");
        let ours = format!("encoder.layer{l}");
        let (qw, qb) = w.linear(&format!("{hf}.attention.self.query"), d, d);
        let (kw, kb) = w.linear(&format!("{hf}.attention.self.key"), d, d);
        let (vw, vb) = w.linear(&format!("{hf}.attention.self.value"), d, d);
        // Fused [d, 3d]: row i is [q row i | k row i | v row i].
        let mut qkv = Vec::with_capacity(3 * d * d);
        for i in 0..d {
            for m in [&qw, &kw, &vw] {
                qkv.extend_from_slice(&m[i * d..(i + 1) * d]);
            }
        }
        values.insert(format!("{ours}.attn.qkv.weight"), qkv);
        values.insert(format!("{ours}.attn.qkv.bias"), [qb, kb, vb].concat());
        let (ow, ob) = w.linear(&format!("{hf}.attention.output.dense"), d, d);
        values.insert(format!("{ours}.attn.out.weight"), ow);
        values.insert(format!("{ours}.attn.out.bias"), ob);
        let (g, b) = w.norm(&format!("{hf}.attention.output.LayerNorm"), d);
        values.insert(format!("{ours}.attn_norm.weight"), g);
        values.insert(format!("{ours}.attn_norm.bias"), b);
        let (uw, ub) = w.linear(&format!("{hf}.intermediate.dense"), d, f);
        values.insert(format!("{ours}.ffn.up.weight"), uw);
        values.insert(format!("{ours}.ffn.up.bias"), ub);
        let (dw, db) = w.linear(&format!("{hf}.output.dense"), f, d);
        values.insert(format!("{ours}.ffn.down.weight"), dw);
        values.insert(format!("{ours}.ffn.down.bias"), db);
        let (g, b) = w.norm(&format!("{hf}.output.LayerNorm"), d);
        values.insert(format!("{ours}.ffn_norm.weight"), g);
        values.insert(format!("{ours}.ffn_norm.bias"), b);
    }
    let mut store = ParamStore::new();
    for decl in &decls {
        let v = values
            .remove(&decl.name)
            .ok_or_else(|| format!("no imported value for our parameter '{}'", decl.name))?;
        store
            .insert(decl.name.clone(), &decl.shape, &v)
            .map_err(|e| format!("{}: {e}", decl.name))?;
    }
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_decodes() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), f32::powi(2.0, -24));
        assert!(f16_to_f32(0x7c00).is_infinite());
    }

    #[test]
    fn transpose_swaps_axes() {
        // [[1, 2, 3], [4, 5, 6]] -> [[1, 4], [2, 5], [3, 6]]
        assert_eq!(
            transpose(&[1., 2., 3., 4., 5., 6.], 2, 3),
            vec![1., 4., 2., 5., 3., 6.]
        );
    }
}
