//! A standalone inference model of an encoder: token ids in, token features and a pooled vector
//! out, weights baked in as initializers, batch and sequence axes symbolic where the encoder
//! allows (see `graph::dynamic`; sinusoidal positions and causal masks are constants of the
//! length, so those encoders are exported with the sequence fixed at `max_len`).
//!
//! Inputs: `input_ids` `[batch, sequence]` i64, `attention_mask` `[batch, sequence]` i64 (1 real
//! token, 0 padding) and, for encoders with segment embeddings, `token_type_ids`
//! `[batch, sequence]` i64. Outputs: `token_features` `[batch, sequence, d_model]` f32 and
//! `pooled` `[batch, d_model]` f32 (mean over real tokens, or the `[CLS]` position).
//! Metadata properties: `embedlab.max_len`, `embedlab.d_model`, `embedlab.pooling`,
//! `embedlab.segment`, `embedlab.cls_id`/`sep_id`/`pad_id`.
//!
//! With a trained head ([`ModelHead`]) the model also outputs `logits` and `probabilities`
//! (softmax of the logits): `[batch, classes]` for a sequence task (classify, pair; pooled as
//! the head was trained), `[batch, sequence, classes]` for tagging, `[batch, sequence, 2]` for
//! extractive QA (start and end logits of every token, labels `start`, `end`; its
//! probabilities are softmaxes over the sequence axis, unmasked: a reader keeps the context
//! tokens only and decodes the best span). The metadata then also has
//! `embedlab.task` and `embedlab.labels` (a JSON list of the label names, in output order).

use crate::graph::{self, DType, Graph, dynamic, export::tensor_proto, onnx_pb};
use crate::model::{self, EncoderInputs, EncoderSpec, ModelBuilder, Pooling, TaskHead};
use crate::runtime::ParamStore;
use prost::Message;

pub const TOKEN_FEATURES: &str = "token_features";
pub const POOLED: &str = "pooled";
pub const LOGITS: &str = "logits";
pub const PROBABILITIES: &str = "probabilities";

/// A trained head exported with its encoder.
#[derive(Debug, Clone, Copy)]
pub struct ModelHead<'a> {
    /// `Classify` (one prediction per sequence), `Tag` (one per token) or `Span` (a start and an
    /// end logit per token); its parameters are named as the task graphs name them.
    pub head: TaskHead,
    /// The label names, in the order of the head's outputs.
    pub labels: &'a [String],
    /// The task's name for the metadata (`classify`, `pair`, `tag`).
    pub task: &'a str,
}

/// Sizes of the two builds compared to find the symbolic axes (their ratios 5/2, 7/3 and 35/6
/// differ, so every dimension is identified uniquely).
const BATCH: (usize, usize) = (2, 5);
const SEQ: (usize, usize) = (3, 7);

/// Whether the exported model accepts any sequence length (else exactly `max_len`).
#[derive(Debug, Clone)]
pub struct ExportedModel {
    pub bytes: Vec<u8>,
    pub dynamic_sequence: bool,
}

fn build(
    spec: &EncoderSpec,
    batch: usize,
    seq: usize,
    pooling: Pooling,
    head: Option<TaskHead>,
) -> anyhow::Result<(Graph, Vec<model::ParamDecl>)> {
    let mut g = Graph::new("encode");
    let mut m = ModelBuilder::new(&mut g, DType::F32, false, 0);
    let inp = EncoderInputs::declare(&mut m, spec, batch, seq)?;
    let out = model::encoder(&mut m, spec, &inp)?;
    let pooled = model::pool(&mut m, out.hidden, inp.attention_mask, pooling)?;
    // The classifier of the task graphs (its dropout is the identity outside training).
    let logits = match head {
        None => None,
        Some(TaskHead::Classify { classes, .. }) => {
            Some(m.scoped("head", |m| m.dense("classifier", pooled, classes))?)
        }
        Some(TaskHead::Tag { classes }) => {
            Some(m.scoped("head", |m| m.dense("classifier", out.hidden, classes))?)
        }
        Some(TaskHead::Span) => Some(m.scoped("head", |m| m.dense("span", out.hidden, 2))?),
    };
    let probabilities = match (logits, head) {
        // Span: over the sequence, for the start and for the end.
        (Some(l), Some(TaskHead::Span)) => Some(m.g.softmax(l, 1)?),
        (Some(l), _) => Some(m.g.softmax(l, -1)?),
        (None, _) => None,
    };
    let params = std::mem::take(&mut m.params);
    g.output(TOKEN_FEATURES, out.hidden)?;
    g.output(POOLED, pooled)?;
    if let (Some(l), Some(p)) = (logits, probabilities) {
        g.output(LOGITS, l)?;
        g.output(PROBABILITIES, p)?;
    }
    Ok((g, params))
}

fn pooling_name(p: Pooling) -> &'static str {
    match p {
        Pooling::Mean => "mean",
        Pooling::Cls => "cls",
        Pooling::Last => "last",
    }
}

/// The inference model of `spec` with `params` (which must hold every encoder parameter).
pub fn encoder_model(
    spec: &EncoderSpec,
    params: &ParamStore,
    pooling: Pooling,
) -> anyhow::Result<ExportedModel> {
    inference_model(spec, params, pooling, None)
}

/// The inference model of an encoder and its trained head: `params` holds every encoder
/// parameter and the head's. A sequence head pools as it was trained.
pub fn task_model(
    spec: &EncoderSpec,
    params: &ParamStore,
    head: &ModelHead,
) -> anyhow::Result<ExportedModel> {
    let classes = head.head.outputs();
    if classes != head.labels.len() {
        anyhow::bail!(
            "the head has {classes} outputs but {} label names",
            head.labels.len()
        );
    }
    let pooling = head.head.pooling().unwrap_or(Pooling::Mean);
    inference_model(spec, params, pooling, Some(head))
}

fn inference_model(
    spec: &EncoderSpec,
    params: &ParamStore,
    pooling: Pooling,
    head: Option<&ModelHead>,
) -> anyhow::Result<ExportedModel> {
    let task_head = head.map(|h| h.head);
    // Symbolic batch and sequence when the graph allows it, else a fixed sequence.
    let attempt = |seq: (usize, usize)| -> anyhow::Result<(Graph, Vec<model::ParamDecl>, dynamic::DynamicShapes)> {
        let (a, decls) = build(spec, BATCH.0, seq.0, pooling, task_head)?;
        let (b, _) = build(spec, BATCH.1, seq.1, pooling, task_head)?;
        let shapes = dynamic::infer(&a, &b, BATCH, seq, "input_ids")?;
        Ok((a, decls, shapes))
    };
    let (g, decls, shapes, dynamic_sequence) = match (spec.max_len > SEQ.1).then(|| attempt(SEQ)) {
        Some(Ok((g, d, s))) => (g, d, s, true),
        _ => {
            let (g, d, s) = attempt((spec.max_len, spec.max_len))?;
            (g, d, s, false)
        }
    };
    let mut proto = graph::to_model_dynamic(&g, &shapes)?;
    let gp = proto.graph.as_mut().expect("exported model has a graph");
    let mut missing = Vec::new();
    for decl in &decls {
        match params.to_tensor(&decl.name) {
            Some(t) if t.shape == decl.shape => gp.initializer.push(tensor_proto(&decl.name, &t)),
            Some(t) => missing.push(format!(
                "{} has shape {:?}, the encoder expects {:?}",
                decl.name, t.shape, decl.shape
            )),
            None => missing.push(format!("{} is missing", decl.name)),
        }
    }
    if !missing.is_empty() {
        anyhow::bail!(
            "the parameters do not fit the encoder:\n  - {}",
            missing.join("\n  - ")
        );
    }
    let names: std::collections::HashSet<&str> = decls.iter().map(|d| d.name.as_str()).collect();
    gp.input.retain(|i| !names.contains(i.name.as_str()));
    let mut meta = vec![
        ("embedlab.max_len", spec.max_len.to_string()),
        ("embedlab.d_model", spec.d_model.to_string()),
        ("embedlab.pooling", pooling_name(pooling).to_string()),
        ("embedlab.segment", spec.segment.to_string()),
        ("embedlab.dynamic_sequence", dynamic_sequence.to_string()),
        (
            "embedlab.cls_id",
            crate::data::tokenizer::CLS_ID.to_string(),
        ),
        (
            "embedlab.sep_id",
            crate::data::tokenizer::SEP_ID.to_string(),
        ),
        (
            "embedlab.pad_id",
            crate::data::tokenizer::PAD_ID.to_string(),
        ),
    ];
    if let Some(h) = head {
        meta.push(("embedlab.task", h.task.to_string()));
        meta.push(("embedlab.labels", serde_json::to_string(h.labels)?));
    }
    proto.metadata_props = meta
        .into_iter()
        .map(|(k, v)| onnx_pb::StringStringEntryProto {
            key: k.into(),
            value: v,
        })
        .collect();
    proto.doc_string = match head {
        None => "embedlab encoder: input_ids, attention_mask[, token_type_ids] -> token_features, pooled",
        Some(_) => "embedlab model: input_ids, attention_mask[, token_type_ids] -> token_features, pooled, logits, probabilities",
    }
    .into();
    Ok(ExportedModel {
        bytes: proto.encode_to_vec(),
        dynamic_sequence,
    })
}

/// Reads the `embedlab.*` metadata properties of an exported model.
pub fn metadata(bytes: &[u8]) -> Vec<(String, String)> {
    match onnx_pb::ModelProto::decode(bytes) {
        Ok(m) => m
            .metadata_props
            .into_iter()
            .map(|p| (p.key, p.value))
            .collect(),
        Err(_) => Vec::new(),
    }
}
