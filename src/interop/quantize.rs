//! Dynamic int8 quantization of an exported model (`export --quantize int8`): every MatMul whose
//! right-hand side is a 2-D f32 initializer `[K, N]` becomes ONNX Runtime's com.microsoft
//! `DynamicQuantizeMatMul` (its CPU kernel quantizes the activations to uint8 per call and runs
//! the integer GEMM), with the weight quantized symmetrically per output column to int8
//! (`scale[n] = max_k |W[k, n]| / 127`, zero point 0). Everything else (embeddings, LayerNorms,
//! the fused Attention's projection, softmax) stays f32. Works on the protobuf only.

use crate::graph::export::MS_DOMAIN;
use crate::graph::onnx_pb::{ModelProto, NodeProto, OperatorSetIdProto, TensorProto};
use prost::Message;
use std::collections::HashMap;

/// ONNX `TensorProto.DataType` codes used here.
const FLOAT: i32 = 1;
const INT8: i32 = 3;

/// What the quantization did.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantized {
    pub bytes: Vec<u8>,
    /// MatMul nodes replaced by DynamicQuantizeMatMul.
    pub matmuls: usize,
    /// Weight values stored as int8 instead of f32.
    pub weights: usize,
}

/// Per-column symmetric int8 of `w: [k, n]` (row-major): (values, scales `[n]`).
pub fn quantize_columns(w: &[f32], k: usize, n: usize) -> (Vec<i8>, Vec<f32>) {
    let mut scales = vec![0f32; n];
    for r in 0..k {
        for (c, s) in scales.iter_mut().enumerate() {
            *s = s.max(w[r * n + c].abs());
        }
    }
    for s in &mut scales {
        // An all-zero column keeps scale 1 (its values quantize to 0 either way).
        *s = if *s > 0.0 { *s / 127.0 } else { 1.0 };
    }
    let q = w
        .iter()
        .enumerate()
        .map(|(i, &v)| (v / scales[i % n]).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (q, scales)
}

fn f32_values(t: &TensorProto) -> Option<Vec<f32>> {
    if t.data_type != FLOAT || !t.raw_data.len().is_multiple_of(4) {
        return None;
    }
    Some(
        t.raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    )
}

/// Quantizes the MatMul weights of the serialized model `bytes` (see the module comment).
pub fn quantize_int8(bytes: &[u8]) -> anyhow::Result<Quantized> {
    let mut model = ModelProto::decode(bytes)?;
    let g = model
        .graph
        .as_mut()
        .ok_or_else(|| anyhow::anyhow!("the model has no graph"))?;
    let inits: HashMap<String, usize> = g
        .initializer
        .iter()
        .enumerate()
        .map(|(i, t)| (t.name.clone(), i))
        .collect();
    let mut uses: HashMap<&str, usize> = HashMap::new();
    for n in &g.node {
        for i in &n.input {
            *uses.entry(i.as_str()).or_default() += 1;
        }
    }
    // Weights used by MatMuls only (a weight shared with another op keeps its f32 copy).
    let mut new_inits = Vec::new();
    let mut quantized_names = Vec::new();
    let mut nodes = Vec::with_capacity(g.node.len());
    let (mut matmuls, mut weights) = (0, 0);
    let mut done: HashMap<String, (String, String)> = HashMap::new();
    for n in &g.node {
        let w = (n.op_type == "MatMul" && n.domain.is_empty() && n.input.len() == 2)
            .then(|| inits.get(&n.input[1]))
            .flatten()
            .map(|&i| &g.initializer[i])
            .filter(|t| t.dims.len() == 2 && t.data_type == FLOAT);
        let Some(w) = w else {
            nodes.push(n.clone());
            continue;
        };
        let (k, c) = (w.dims[0] as usize, w.dims[1] as usize);
        let (qname, sname) = match done.get(&w.name) {
            Some(p) => p.clone(),
            None => {
                let Some(vals) = f32_values(w).filter(|v| v.len() == k * c) else {
                    nodes.push(n.clone());
                    continue;
                };
                let (q, scales) = quantize_columns(&vals, k, c);
                let (qname, sname) = (format!("{}.int8", w.name), format!("{}.scale", w.name));
                new_inits.push(TensorProto {
                    dims: vec![k as i64, c as i64],
                    data_type: INT8,
                    name: qname.clone(),
                    raw_data: q.iter().map(|&v| v as u8).collect(),
                });
                new_inits.push(TensorProto {
                    dims: vec![c as i64],
                    data_type: FLOAT,
                    name: sname.clone(),
                    raw_data: scales.iter().flat_map(|s| s.to_le_bytes()).collect(),
                });
                weights += k * c;
                quantized_names.push(w.name.clone());
                done.insert(w.name.clone(), (qname.clone(), sname.clone()));
                (qname, sname)
            }
        };
        matmuls += 1;
        nodes.push(NodeProto {
            input: vec![n.input[0].clone(), qname, sname],
            output: n.output.clone(),
            name: format!("{}/int8", n.name),
            op_type: "DynamicQuantizeMatMul".into(),
            domain: MS_DOMAIN.into(),
            attribute: vec![],
            doc_string: String::new(),
        });
    }
    // Drop the f32 weights no other node reads.
    let matmul_uses: HashMap<&str, usize> = g
        .node
        .iter()
        .filter(|n| n.op_type == "MatMul")
        .filter_map(|n| n.input.get(1).map(|s| s.as_str()))
        .fold(HashMap::new(), |mut m, s| {
            *m.entry(s).or_default() += 1;
            m
        });
    let drop: Vec<String> = quantized_names
        .iter()
        .filter(|name| uses.get(name.as_str()) == matmul_uses.get(name.as_str()))
        .cloned()
        .collect();
    g.node = nodes;
    g.initializer.retain(|t| !drop.contains(&t.name));
    g.initializer.extend(new_inits);
    if !model.opset_import.iter().any(|o| o.domain == MS_DOMAIN) {
        model.opset_import.push(OperatorSetIdProto {
            domain: MS_DOMAIN.into(),
            version: 1,
        });
    }
    Ok(Quantized {
        bytes: model.encode_to_vec(),
        matmuls,
        weights,
    })
}

#[cfg(test)]
mod tests {
    use super::quantize_columns;

    #[test]
    fn columns_are_scaled_by_their_own_maximum() {
        // w = [[1, -0.5], [-2, 0.25]]: column maxima 2 and 0.5.
        let (q, s) = quantize_columns(&[1.0, -0.5, -2.0, 0.25], 2, 2);
        assert_eq!(s, vec![2.0 / 127.0, 0.5 / 127.0]);
        assert_eq!(q, vec![64, -127, -127, 64]);
    }
}
