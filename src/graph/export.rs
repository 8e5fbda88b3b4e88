//! Export of a [`Graph`] to an ONNX `ModelProto` (IR version 10, opset 21). The only place that
//! knows protobuf. Nodes not needed for the outputs are dropped; every other node is emitted by its
//! op family (`graph::ops`) through the [`Emitter`]. Ops without float64 kernels in ONNX Runtime
//! (Erf, Gelu, LayerNormalization) are lowered to primitive ops in f64 graphs.

use super::dynamic::{DynamicShapes, SymDim};
use super::error::{GraphError, Result};
use super::ir::{Graph, Node, ValueId};
use super::onnx_pb::*;
use super::{DType, Tensor, TensorData};
use prost::Message;

pub const OPSET: i64 = 21;
pub const IR_VERSION: i64 = 10;
/// The domain of ONNX Runtime's contrib ops (the fused forward-only kernels, `graph::ops::fused`),
/// imported at version 1 only by graphs that use one.
pub const MS_DOMAIN: &str = "com.microsoft";

/// Builds ONNX nodes and initializers for one graph; op families emit through it.
pub struct Emitter<'a> {
    pub graph: &'a Graph,
    names: Vec<String>,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    counter: usize,
    /// Symbolic batch/sequence axes (see [`super::dynamic`]), with the run-time size tensors
    /// `[B]`, `[T]`, `[B·T]` once made.
    dynamic: Option<&'a DynamicShapes>,
    sizes: Option<[String; 3]>,
    /// Whether a node of [`MS_DOMAIN`] was emitted (the model then imports that domain).
    uses_ms_domain: bool,
}

impl<'a> Emitter<'a> {
    pub fn input_names(&self, node: &Node) -> Vec<String> {
        node.inputs
            .iter()
            .map(|v| self.names[v.0].clone())
            .collect()
    }
    pub fn output_names(&self, node: &Node) -> Vec<String> {
        node.outputs
            .iter()
            .map(|v| self.names[v.0].clone())
            .collect()
    }
    /// Appends one ONNX node.
    pub fn node(
        &mut self,
        op_type: &str,
        name: &str,
        inputs: Vec<String>,
        outputs: Vec<String>,
        attribute: Vec<AttributeProto>,
    ) {
        self.nodes.push(NodeProto {
            input: inputs,
            output: outputs,
            name: name.to_string(),
            op_type: op_type.to_string(),
            domain: String::new(),
            attribute,
            doc_string: String::new(),
        });
    }
    /// Appends one node of ONNX Runtime's contrib domain ([`MS_DOMAIN`]).
    pub fn ms_node(
        &mut self,
        op_type: &str,
        name: &str,
        inputs: Vec<String>,
        outputs: Vec<String>,
        attribute: Vec<AttributeProto>,
    ) {
        self.node(op_type, name, inputs, outputs, attribute);
        if let Some(n) = self.nodes.last_mut() {
            n.domain = MS_DOMAIN.to_string();
        }
        self.uses_ms_domain = true;
    }
    /// A fresh intermediate value name under `base`.
    pub fn tmp(&mut self, base: &str, what: &str) -> String {
        self.counter += 1;
        format!("{base}/{what}#{}", self.counter)
    }
    /// A constant initializer; returns its name.
    pub fn const_tensor(&mut self, base: &str, t: Tensor) -> String {
        let name = self.tmp(base, "c");
        self.initializers.push(tensor_proto(&name, &t));
        name
    }
    pub fn const_i64(&mut self, base: &str, v: &[i64]) -> String {
        self.const_tensor(base, Tensor::i64(vec![v.len()], v.to_vec()))
    }
    pub fn const_scalar(&mut self, base: &str, dtype: DType, v: f64) -> String {
        self.const_tensor(base, Tensor::scalar(dtype, v))
    }

    /// The 1-D i64 tensors `[B]`, `[T]` and `[B·T]` read from the anchor input's shape.
    fn sizes(&mut self, anchor: ValueId) -> [String; 3] {
        if let Some(s) = &self.sizes {
            return s.clone();
        }
        let base = "dynamic";
        let x = self.names[anchor.0].clone();
        let (b, t, bt) = (
            format!("{base}/batch"),
            format!("{base}/sequence"),
            format!("{base}/batch_x_sequence"),
        );
        self.node(
            "Shape",
            "dynamic.batch",
            vec![x.clone()],
            vec![b.clone()],
            vec![attr_int("start", 0), attr_int("end", 1)],
        );
        self.node(
            "Shape",
            "dynamic.sequence",
            vec![x],
            vec![t.clone()],
            vec![attr_int("start", 1), attr_int("end", 2)],
        );
        self.node(
            "Mul",
            "dynamic.batch_x_sequence",
            vec![b.clone(), t.clone()],
            vec![bt.clone()],
            vec![],
        );
        let s = [b, t, bt];
        self.sizes = Some(s.clone());
        s
    }

    /// A 1-D i64 shape tensor for `dims`: a constant when all are static, else computed at run time.
    pub(crate) fn shape_tensor(&mut self, base: &str, dims: &[SymDim]) -> String {
        let Some(dynamic) = self.dynamic else {
            unreachable!("shape_tensor without dynamic shapes")
        };
        if dims.iter().all(SymDim::is_static) {
            let s: Vec<i64> = dims.iter().map(|d| d.coef as i64).collect();
            return self.const_i64(base, &s);
        }
        let sizes = self.sizes(dynamic.anchor);
        let mut parts = Vec::new();
        let mut run: Vec<i64> = Vec::new();
        for d in dims {
            if d.is_static() {
                run.push(d.coef as i64);
                continue;
            }
            if !run.is_empty() {
                parts.push(self.const_i64(base, &std::mem::take(&mut run)));
            }
            let sym = sizes[match (d.batch, d.seq) {
                (true, false) => 0,
                (false, true) => 1,
                _ => 2,
            }]
            .clone();
            parts.push(if d.coef == 1 {
                sym
            } else {
                let c = self.const_i64(base, &[d.coef as i64]);
                let out = self.tmp(base, "dim");
                self.node("Mul", &out.clone(), vec![sym, c], vec![out.clone()], vec![]);
                out
            });
        }
        if !run.is_empty() {
            parts.push(self.const_i64(base, &run));
        }
        let out = self.tmp(base, "shape");
        self.node(
            "Concat",
            &out.clone(),
            parts,
            vec![out.clone()],
            vec![attr_int("axis", 0)],
        );
        out
    }

    /// The dimensions of `v` when export has symbolic axes and `v`'s shape involves one; `None`
    /// when the shape is static (ops then emit their static form).
    pub(crate) fn symbolic_dims(&self, v: ValueId) -> Option<Vec<SymDim>> {
        let dims = self.dynamic?.of(v);
        if dims.iter().all(SymDim::is_static) {
            None
        } else {
            Some(dims.to_vec())
        }
    }

    /// Exports a constant's value as an initializer named like the node's output.
    pub(crate) fn initializer(&mut self, node: &Node, value: &Tensor) {
        let name = self.names[node.outputs[0].0].clone();
        self.initializers.push(tensor_proto(&name, value));
    }
}

pub fn attr_int(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: attribute_type::INT,
        i: Some(i),
        ..Default::default()
    }
}
pub fn attr_ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: attribute_type::INTS,
        ints: v.to_vec(),
        ..Default::default()
    }
}
pub fn attr_float(name: &str, f: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: attribute_type::FLOAT,
        f: Some(f),
        ..Default::default()
    }
}
pub fn attr_string(name: &str, s: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: attribute_type::STRING,
        s: Some(s.as_bytes().to_vec()),
        ..Default::default()
    }
}

/// A `TensorProto` holding `t` as little-endian raw data.
pub fn tensor_proto(name: &str, t: &Tensor) -> TensorProto {
    let raw_data: Vec<u8> = match &t.data {
        TensorData::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::F64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        TensorData::Bool(v) => v.iter().map(|&b| b as u8).collect(),
    };
    TensorProto {
        dims: t.shape.iter().map(|&d| d as i64).collect(),
        data_type: t.dtype().onnx_code(),
        name: name.to_string(),
        raw_data,
    }
}

/// Which nodes the outputs depend on.
fn live_nodes(g: &Graph) -> Vec<bool> {
    let mut live_val = vec![false; g.values.len()];
    for (_, v) in &g.outputs {
        live_val[v.0] = true;
    }
    let mut live = vec![false; g.nodes.len()];
    for (i, node) in g.nodes.iter().enumerate().rev() {
        if node.outputs.iter().any(|o| live_val[o.0]) {
            live[i] = true;
            for inp in &node.inputs {
                live_val[inp.0] = true;
            }
        }
    }
    live
}

/// Exports `g` as an ONNX model. Every graph input is declared (fed or not); named initializers
/// keep their names; each output gets exactly its declared name.
pub fn to_model(g: &Graph) -> Result<ModelProto> {
    to_model_with(g, None)
}

/// Like [`to_model`], with symbolic batch and sequence axes (see [`super::dynamic::infer`]):
/// inputs and outputs get `dim_param`s and shapes are computed at run time.
pub fn to_model_dynamic(g: &Graph, dynamic: &DynamicShapes) -> Result<ModelProto> {
    to_model_with(g, Some(dynamic))
}

fn to_model_with(g: &Graph, dynamic: Option<&DynamicShapes>) -> Result<ModelProto> {
    if g.outputs.is_empty() {
        return Err(GraphError::Shape {
            op: "export",
            node: g.name.clone(),
            message: "graph has no outputs".into(),
        });
    }
    let mut names = vec![String::new(); g.values.len()];
    for node in &g.nodes {
        match node.outputs.len() {
            1 => names[node.outputs[0].0] = node.name.clone(),
            _ => {
                for (i, o) in node.outputs.iter().enumerate() {
                    names[o.0] = format!("{}:{i}", node.name);
                }
            }
        }
    }
    let mut e = Emitter {
        graph: g,
        names,
        nodes: Vec::new(),
        initializers: Vec::new(),
        counter: 0,
        dynamic,
        sizes: None,
        uses_ms_domain: false,
    };
    let live = live_nodes(g);
    for (i, node) in g.nodes.iter().enumerate() {
        if !live[i] {
            continue;
        }
        node.op.emit(&mut e, node);
    }
    let vi = |name: &str, v: ValueId| {
        let info = g.info(v);
        let dims: Vec<std::result::Result<i64, String>> = match dynamic {
            Some(d) => d.of(v).iter().map(SymDim::onnx_dim).collect(),
            None => info.shape.iter().map(|&d| Ok(d as i64)).collect(),
        };
        tensor_value_info(name, info.dtype.onnx_code(), &dims)
    };
    let input = g.inputs.iter().map(|&v| vi(&e.names[v.0], v)).collect();
    let mut output = Vec::new();
    for (name, v) in &g.outputs {
        let src = e.names[v.0].clone();
        e.node(
            "Identity",
            &format!("output.{name}"),
            vec![src],
            vec![name.clone()],
            vec![],
        );
        output.push(vi(name, *v));
    }
    let uses_ms_domain = e.uses_ms_domain;
    let graph = GraphProto {
        node: e.nodes,
        name: g.name.clone(),
        initializer: e.initializers,
        doc_string: String::new(),
        input,
        output,
        value_info: Vec::new(),
    };
    let mut opset_import = vec![OperatorSetIdProto {
        domain: String::new(),
        version: OPSET,
    }];
    if uses_ms_domain {
        opset_import.push(OperatorSetIdProto {
            domain: MS_DOMAIN.into(),
            version: 1,
        });
    }
    Ok(ModelProto {
        ir_version: IR_VERSION,
        opset_import,
        producer_name: "embedlab".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        domain: String::new(),
        model_version: 1,
        doc_string: String::new(),
        graph: Some(graph),
        metadata_props: Vec::new(),
    })
}

/// Serialized ONNX model bytes of `g`.
pub fn to_onnx_bytes(g: &Graph) -> Result<Vec<u8>> {
    Ok(to_model(g)?.encode_to_vec())
}
