//! Our encoder's parameters under Hugging Face `BertModel` names and layouts: the exact inverse
//! of the import's mapping (`super::super::bert`).
//!
//! Our dense weights are `[in, out]` and PyTorch `Linear` weights `[out, in]`, so every dense
//! weight is transposed; our fused `[d, 3d]` attention projection (row i = `[q row i | k row i |
//! v row i]`) is split into `query`, `key` and `value`. The word table keeps its rows: the
//! exported tokenizer is ours, with our ids. An encoder without segment embeddings gets a
//! one-row token-type table of zeros (`type_vocab_size` 1), which adds nothing, as our encoder
//! adds nothing; the import adds that row into the position table, so the round trip is exact.
//! Values are copied bit for bit (F32); nothing is computed.

use super::HfError;
use crate::interop::bert::transpose;
use crate::model::{self, EncoderSpec};
use crate::runtime::ParamStore;

/// One tensor of the exported file: name, shape and values.
#[derive(Debug, Clone, PartialEq)]
pub struct HfTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Reads our parameters by name, checking shapes and collecting every problem.
struct Ours<'a> {
    params: &'a ParamStore,
    read: std::collections::BTreeSet<String>,
    problems: Vec<String>,
}

impl<'a> Ours<'a> {
    fn new(params: &'a ParamStore) -> Ours<'a> {
        Ours {
            params,
            read: Default::default(),
            problems: Vec::new(),
        }
    }

    fn get(&mut self, name: &str, shape: &[usize]) -> Vec<f32> {
        self.read.insert(name.to_string());
        match (self.params.get(name), self.params.shape(name)) {
            (Some(v), Some(s)) if s == shape => v.to_vec(),
            (Some(_), Some(s)) => {
                self.problems
                    .push(format!("'{name}' has shape {s:?}, expected {shape:?}"));
                vec![0.0; shape.iter().product()]
            }
            _ => {
                self.problems.push(format!("'{name}' is missing"));
                vec![0.0; shape.iter().product()]
            }
        }
    }
}

/// A PyTorch `Linear` (`[out, in]` weight and bias) from our dense `name` (`[in, out]`).
fn linear(
    ours: &mut Ours,
    out: &mut Vec<HfTensor>,
    name: &str,
    hf: &str,
    inp: usize,
    width: usize,
) {
    let w = ours.get(&format!("{name}.weight"), &[inp, width]);
    let b = ours.get(&format!("{name}.bias"), &[width]);
    out.push(HfTensor {
        name: format!("{hf}.weight"),
        shape: vec![width, inp],
        data: transpose(&w, inp, width),
    });
    out.push(HfTensor {
        name: format!("{hf}.bias"),
        shape: vec![width],
        data: b,
    });
}

fn norm(ours: &mut Ours, out: &mut Vec<HfTensor>, name: &str, hf: &str, d: usize) {
    for part in ["weight", "bias"] {
        out.push(HfTensor {
            name: format!("{hf}.{part}"),
            shape: vec![d],
            data: ours.get(&format!("{name}.{part}"), &[d]),
        });
    }
}

/// The `BertModel` tensors of the encoder `spec` (already checked expressible), each name
/// prefixed with `prefix` (`""`, or `"bert."` under a task model).
pub fn encoder_tensors(
    spec: &EncoderSpec,
    params: &ParamStore,
    prefix: &str,
) -> Result<Vec<HfTensor>, HfError> {
    let (d, f) = (spec.d_model, spec.ffn);
    let mut ours = Ours::new(params);
    let mut out = Vec::new();
    let put = |out: &mut Vec<HfTensor>, name: &str, shape: Vec<usize>, data: Vec<f32>| {
        out.push(HfTensor {
            name: name.to_string(),
            shape,
            data,
        })
    };
    let word = ours.get("embeddings.word", &[spec.vocab, d]);
    put(
        &mut out,
        "embeddings.word_embeddings.weight",
        vec![spec.vocab, d],
        word,
    );
    let pos = ours.get("embeddings.position", &[spec.max_len, d]);
    put(
        &mut out,
        "embeddings.position_embeddings.weight",
        vec![spec.max_len, d],
        pos,
    );
    let (types, rows) = if spec.segment {
        (ours.get("embeddings.segment", &[2, d]), 2)
    } else {
        (vec![0.0; d], 1)
    };
    put(
        &mut out,
        "embeddings.token_type_embeddings.weight",
        vec![rows, d],
        types,
    );
    norm(
        &mut ours,
        &mut out,
        "embeddings.norm",
        "embeddings.LayerNorm",
        d,
    );
    for l in 0..spec.depth {
        let (o, hf) = (format!("encoder.layer{l}"), format!("encoder.layer.{l}"));
        let qkv = ours.get(&format!("{o}.attn.qkv.weight"), &[d, 3 * d]);
        let qkv_b = ours.get(&format!("{o}.attn.qkv.bias"), &[3 * d]);
        for (k, part) in ["query", "key", "value"].into_iter().enumerate() {
            // Our [in, out] block of this projection: columns k·d..(k+1)·d of every row.
            let block: Vec<f32> = qkv
                .chunks(3 * d)
                .flat_map(|row| row[k * d..(k + 1) * d].iter().copied())
                .collect();
            let name = format!("{hf}.attention.self.{part}");
            put(
                &mut out,
                &format!("{name}.weight"),
                vec![d, d],
                transpose(&block, d, d),
            );
            put(
                &mut out,
                &format!("{name}.bias"),
                vec![d],
                qkv_b[k * d..(k + 1) * d].to_vec(),
            );
        }
        linear(
            &mut ours,
            &mut out,
            &format!("{o}.attn.out"),
            &format!("{hf}.attention.output.dense"),
            d,
            d,
        );
        norm(
            &mut ours,
            &mut out,
            &format!("{o}.attn_norm"),
            &format!("{hf}.attention.output.LayerNorm"),
            d,
        );
        linear(
            &mut ours,
            &mut out,
            &format!("{o}.ffn.up"),
            &format!("{hf}.intermediate.dense"),
            d,
            f,
        );
        linear(
            &mut ours,
            &mut out,
            &format!("{o}.ffn.down"),
            &format!("{hf}.output.dense"),
            f,
            d,
        );
        norm(
            &mut ours,
            &mut out,
            &format!("{o}.ffn_norm"),
            &format!("{hf}.output.LayerNorm"),
            d,
        );
    }
    // Every parameter the encoder declares must have been written above.
    let decls = model::features_graph(spec, 1, 2, None, crate::graph::DType::F32)
        .map_err(|e| HfError::Params {
            problems: vec![e.to_string()],
        })?
        .params;
    for decl in decls.iter().filter(|p| !ours.read.contains(&p.name)) {
        ours.problems
            .push(format!("'{}' has no place in a BertModel", decl.name));
    }
    if !ours.problems.is_empty() {
        return Err(HfError::Params {
            problems: ours.problems,
        });
    }
    for t in &mut out {
        t.name = format!("{prefix}{}", t.name);
    }
    Ok(out)
}

/// A trained classifier (`head.classifier`, `[d, classes]`) as a PyTorch `Linear` named `hf`.
pub fn classifier_tensors(
    params: &ParamStore,
    d: usize,
    classes: usize,
    hf: &str,
) -> Result<Vec<HfTensor>, HfError> {
    let mut ours = Ours::new(params);
    let mut out = Vec::new();
    linear(&mut ours, &mut out, "head.classifier", hf, d, classes);
    if !ours.problems.is_empty() {
        return Err(HfError::Params {
            problems: ours.problems,
        });
    }
    Ok(out)
}

/// A safetensors file of `tensors` (F32) with `{"format": "pt"}` metadata, which Hugging Face
/// loaders expect. The bytes depend only on the tensors.
pub fn safetensors_bytes(tensors: &[HfTensor]) -> Result<Vec<u8>, HfError> {
    let buffers: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                t.shape.clone(),
                t.data.iter().flat_map(|x| x.to_le_bytes()).collect(),
            )
        })
        .collect();
    let views = buffers
        .iter()
        .map(|(name, shape, bytes)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| HfError::Params {
            problems: vec![e.to_string()],
        })?;
    let info = std::collections::HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize(views, Some(info)).map_err(|e| HfError::Params {
        problems: vec![e.to_string()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_swaps_axes() {
        assert_eq!(
            transpose(&[1., 2., 3., 4., 5., 6.], 2, 3),
            vec![1., 4., 2., 5., 3., 6.]
        );
    }

    /// The fused projection splits into query, key and value exactly as the import fuses them:
    /// with d = 1, qkv row 0 is [q, k, v].
    #[test]
    fn fused_projection_splits_into_query_key_value() {
        let mut spec = EncoderSpec::tiny(6);
        spec.d_model = 2;
        spec.heads = 1;
        spec.ffn = 2;
        spec.depth = 1;
        spec.max_len = 3;
        spec.segment = false;
        let decls = model::features_graph(&spec, 1, 2, None, crate::graph::DType::F32)
            .unwrap()
            .params;
        let mut params = ParamStore::new();
        for decl in &decls {
            let n: usize = decl.shape.iter().product();
            let v: Vec<f32> = (0..n).map(|i| i as f32).collect();
            params.insert(decl.name.clone(), &decl.shape, &v).unwrap();
        }
        let t = encoder_tensors(&spec, &params, "").unwrap();
        let get = |n: &str| t.iter().find(|x| x.name == n).unwrap();
        // qkv.weight [2, 6] = [[0..6], [6..12]]; query (ours [in, out]) = [[0, 1], [6, 7]],
        // as [out, in]: [[0, 6], [1, 7]]. key: [[2, 3], [8, 9]] -> [[2, 8], [3, 9]].
        let q = get("encoder.layer.0.attention.self.query.weight");
        assert_eq!(q.data, vec![0., 6., 1., 7.]);
        let k = get("encoder.layer.0.attention.self.key.weight");
        assert_eq!(k.data, vec![2., 8., 3., 9.]);
        let vb = get("encoder.layer.0.attention.self.value.bias");
        assert_eq!(vb.data, vec![4., 5.]);
        // ffn.up [2, 2] = [[0, 1], [2, 3]] -> intermediate.dense [[0, 2], [1, 3]].
        let up = get("encoder.layer.0.intermediate.dense.weight");
        assert_eq!(up.data, vec![0., 2., 1., 3.]);
        let types = get("embeddings.token_type_embeddings.weight");
        assert_eq!(
            (types.shape.clone(), types.data.clone()),
            (vec![1, 2], vec![0.0; 2])
        );
    }
}
