//! Task graphs: an encoder plus a head and its loss, as a training graph (loss, logits and the
//! gradient of every trainable parameter) or an evaluation graph (loss and logits, no dropout).
//! Also the frozen-transfer pair: a features graph (encoder only, run once per example) and a
//! head-only graph trained on those features.

use super::encoder::{EncoderInputs, EncoderSpec, encoder};
use super::fusion::Fusion;
use super::heads::{Head, Pooling, PretrainHead, TaskHead};
use super::inputs::Input;
use super::params::{Init, ModelBuilder, ParamDecl};
use super::span::span_head;
use super::windows::pool_windows;
use crate::graph::{self, DType, Graph, ValueId};

pub use crate::data::IGNORE_INDEX;

#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Gradients for every parameter except those whose name starts with a frozen prefix.
    Train {
        frozen_prefixes: Vec<String>,
    },
    Eval,
}

/// A built graph with its parameters. Training graphs output `loss` and `grad.<name>` for each
/// trainable parameter; evaluation graphs output `loss` and `logits`.
pub struct TaskGraph {
    pub graph: Graph,
    pub params: Vec<ParamDecl>,
    /// Names of the parameters whose gradients the graph outputs as `grad.<name>`.
    pub trainable: Vec<String>,
}

fn finish(
    mut g: Graph,
    params: Vec<ParamDecl>,
    loss: ValueId,
    logits: ValueId,
    mode: &Mode,
) -> graph::Result<TaskGraph> {
    g.output("loss", loss)?;
    if *mode == Mode::Eval {
        // Training graphs leave the logits out: copying them out costs a pass over [rows, classes].
        g.output("logits", logits)?;
    }
    let mut trainable = Vec::new();
    if let Mode::Train { frozen_prefixes } = mode {
        let wrt: Vec<(String, ValueId)> = params
            .iter()
            .filter(|p| {
                !frozen_prefixes
                    .iter()
                    .any(|f| p.name.starts_with(f.as_str()))
            })
            .map(|p| {
                let v = g
                    .inputs
                    .iter()
                    .copied()
                    .find(|&v| g.producer(v).name == p.name)
                    .expect("param is an input");
                (p.name.clone(), v)
            })
            .collect();
        let vals: Vec<ValueId> = wrt.iter().map(|(_, v)| *v).collect();
        let grads = graph::backward_or_zeros(&mut g, loss, &vals)?;
        for ((name, _), d) in wrt.into_iter().zip(grads) {
            g.output(&format!("grad.{name}"), d)?;
            trainable.push(name);
        }
    }
    Ok(TaskGraph {
        graph: g,
        params,
        trainable,
    })
}

/// Pools `[B, T, D]` features to `[B, D]`.
pub fn pool(
    m: &mut ModelBuilder,
    hidden: ValueId,
    mask: ValueId,
    pooling: Pooling,
) -> graph::Result<ValueId> {
    let s = m.g.shape(hidden).to_vec();
    let (b, t, d) = (s[0], s[1], s[2]);
    m.g.scoped("pool", |g| match pooling {
        Pooling::Cls => {
            let first = g.slice(hidden, 1, 0, 1)?;
            g.reshape(first, &[b, d])
        }
        Pooling::Last => {
            // One-hot weights at the last real position: the mask minus itself shifted left
            // by one (right padding), so the gradient reaches that position alone.
            let dt = g.dtype(hidden);
            let mf = g.cast(mask, dt)?;
            let next = g.slice(mf, 1, 1, t)?;
            let next = g.pad(next, 1, 0, 1)?;
            let last = g.sub(mf, next)?;
            let last = g.reshape(last, &[b, t, 1])?;
            let picked = g.mul(hidden, last)?;
            g.reduce_sum(picked, &[1], false)
        }
        Pooling::Mean => {
            let dt = g.dtype(hidden);
            let mf = g.cast(mask, dt)?;
            let mf = g.reshape(mf, &[b, t, 1])?;
            let hm = g.mul(hidden, mf)?;
            let num = g.reduce_sum(hm, &[1], false)?;
            let den = g.reduce_sum(mf, &[1], false)?;
            let den = g.add_scalar(den, 1e-9)?;
            g.div(num, den)
        }
    })
}

/// The classifier on `[B, D]` or `[N, D]` features: dropout, then `head.classifier`.
fn classifier(
    m: &mut ModelBuilder,
    feats: ValueId,
    classes: usize,
    dropout: f64,
) -> graph::Result<ValueId> {
    m.scoped("head", |m| {
        let f = m.dropout(feats, dropout)?;
        m.dense("classifier", f, classes)
    })
}

/// Encoder + head + loss. Batch inputs: `input_ids`, `attention_mask`, (`token_type_ids`), and the
/// head's labels (see [`Head`]).
pub fn task_graph(
    spec: &EncoderSpec,
    head: Head,
    batch: usize,
    seq: usize,
    mode: &Mode,
    dtype: DType,
    seed: i64,
) -> graph::Result<TaskGraph> {
    let mut g = Graph::new(match mode {
        Mode::Train { .. } => "train_step",
        Mode::Eval => "eval",
    });
    let train = matches!(mode, Mode::Train { .. });
    let mut m = ModelBuilder::new(&mut g, dtype, train, seed);
    let inp = EncoderInputs::declare(&mut m, spec, batch, seq)?;
    let out = encoder(&mut m, spec, &inp)?;
    let d = spec.d_model;
    let (loss, logits) = match head {
        Head::Pretrain(PretrainHead::Mlm { n_masked }) => {
            let pos =
                m.g.input(Input::MlmPositions.name(), DType::I64, &[n_masked])?;
            let labels =
                m.g.input(Input::MlmLabels.name(), DType::I64, &[n_masked])?;
            let flat = m.g.reshape(out.hidden, &[batch * seq, d])?;
            let picked = m.g.gather(flat, pos, 0)?;
            let logits = m.scoped("head.mlm", |m| -> graph::Result<ValueId> {
                let x = m.dense("transform", picked, d)?;
                let x = m.g.gelu(x)?;
                let x = m.layer_norm("norm", x, spec.ln_eps)?;
                let bias = m.param("bias", &[spec.vocab], Init::Zeros)?;
                match out.word_table.filter(|_| spec.tie_output) {
                    Some(w) => {
                        let wt = m.g.transpose(w, &[1, 0])?;
                        let y = m.g.matmul(x, wt)?;
                        m.g.add(y, bias)
                    }
                    None => {
                        let w = m.param("decoder", &[d, spec.vocab], Init::Normal(0.02))?;
                        m.linear(x, w, bias)
                    }
                }
            })?;
            (
                m.g.softmax_cross_entropy(logits, labels, IGNORE_INDEX)?,
                logits,
            )
        }
        Head::Pretrain(PretrainHead::Clm) => {
            let labels =
                m.g.input(Input::Labels.name(), DType::I64, &[batch * seq])?;
            let flat = m.g.reshape(out.hidden, &[batch * seq, d])?;
            let logits = m.scoped("head.lm", |m| -> graph::Result<ValueId> {
                let bias = m.param("bias", &[spec.vocab], Init::Zeros)?;
                match out.word_table.filter(|_| spec.tie_output) {
                    Some(w) => {
                        let wt = m.g.transpose(w, &[1, 0])?;
                        let y = m.g.matmul(flat, wt)?;
                        m.g.add(y, bias)
                    }
                    None => {
                        let w = m.param("decoder", &[d, spec.vocab], Init::Normal(0.02))?;
                        m.linear(flat, w, bias)
                    }
                }
            })?;
            (
                m.g.softmax_cross_entropy(logits, labels, IGNORE_INDEX)?,
                logits,
            )
        }
        Head::Pretrain(PretrainHead::Sequence { classes }) => {
            let labels = m.g.input(Input::Labels.name(), DType::I64, &[batch])?;
            let pooled = pool(&mut m, out.hidden, inp.attention_mask, Pooling::Cls)?;
            let logits = classifier(&mut m, pooled, classes, spec.dropout)?;
            (
                m.g.softmax_cross_entropy(logits, labels, IGNORE_INDEX)?,
                logits,
            )
        }
        Head::Task(TaskHead::Classify {
            classes,
            pooling,
            windows,
        }) => {
            let labels = m.g.input(Input::Labels.name(), DType::I64, &[batch])?;
            let mut pooled = pool(&mut m, out.hidden, inp.attention_mask, pooling)?;
            if let Some(w) = windows {
                let mask =
                    m.g.input(Input::WindowMask.name(), dtype, &[batch, batch])?;
                pooled = pool_windows(&mut m, pooled, mask, w)?;
            }
            let logits = classifier(&mut m, pooled, classes, spec.dropout)?;
            (
                m.g.softmax_cross_entropy(logits, labels, IGNORE_INDEX)?,
                logits,
            )
        }
        Head::Task(TaskHead::Tag { classes }) => {
            let labels =
                m.g.input(Input::Labels.name(), DType::I64, &[batch * seq])?;
            let flat = m.g.reshape(out.hidden, &[batch * seq, d])?;
            let logits = classifier(&mut m, flat, classes, spec.dropout)?;
            (
                m.g.softmax_cross_entropy(logits, labels, IGNORE_INDEX)?,
                logits,
            )
        }
        Head::Task(TaskHead::Span) => {
            let flat = m.g.reshape(out.hidden, &[batch * seq, d])?;
            span_head(&mut m, flat, batch, seq, spec.dropout)?
        }
    };
    let params = std::mem::take(&mut m.params);
    finish(g, params, loss, logits, mode)
}

/// The encoder alone, for frozen transfer and export: outputs `features`, pooled `[B, D]` when
/// `pooling` is given, else `[B, T, D]`. No dropout.
pub fn features_graph(
    spec: &EncoderSpec,
    batch: usize,
    seq: usize,
    pooling: Option<Pooling>,
    dtype: DType,
) -> graph::Result<TaskGraph> {
    features_graph_with(spec, batch, seq, pooling, dtype, Fusion::from_env())
}

/// [`features_graph`] with fusion given rather than read from the environment.
pub fn features_graph_with(
    spec: &EncoderSpec,
    batch: usize,
    seq: usize,
    pooling: Option<Pooling>,
    dtype: DType,
    fusion: Fusion,
) -> graph::Result<TaskGraph> {
    let mut g = Graph::new("encode");
    let mut m = ModelBuilder::new(&mut g, dtype, false, 0);
    m.fusion = fusion;
    let inp = EncoderInputs::declare(&mut m, spec, batch, seq)?;
    let out = encoder(&mut m, spec, &inp)?;
    let f = match pooling {
        Some(p) => pool(&mut m, out.hidden, inp.attention_mask, p)?,
        None => out.hidden,
    };
    let params = std::mem::take(&mut m.params);
    g.output("features", f)?;
    Ok(TaskGraph {
        graph: g,
        params,
        trainable: vec![],
    })
}

/// The name of layer `k`'s output in [`layer_features_graph`] of an encoder of `depth` layers:
/// the last layer is `features` itself.
pub fn layer_output(k: usize, depth: usize) -> String {
    if k == depth {
        "features".to_string()
    } else {
        format!("layer{k}")
    }
}

/// The encoder alone with one output per layer in `layers` (0: the embeddings' output, k: encoder
/// layer k's), each named [`layer_output`] and pooled like `features` (`[B, D]` with `pooling`,
/// else `[B, T, D]`), besides `features` itself: every layer from one forward pass. No dropout.
pub fn layer_features_graph(
    spec: &EncoderSpec,
    batch: usize,
    seq: usize,
    pooling: Option<Pooling>,
    layers: &[usize],
    dtype: DType,
) -> graph::Result<TaskGraph> {
    let mut g = Graph::new("encode");
    let mut m = ModelBuilder::new(&mut g, dtype, false, 0);
    let inp = EncoderInputs::declare(&mut m, spec, batch, seq)?;
    let out = encoder(&mut m, spec, &inp)?;
    let pooled = |m: &mut ModelBuilder, h: ValueId| match pooling {
        Some(p) => pool(m, h, inp.attention_mask, p),
        None => Ok(h),
    };
    let f = pooled(&mut m, out.hidden)?;
    let mut outs = Vec::new();
    for &k in layers {
        let h = *out.layers.get(k).ok_or_else(|| graph::GraphError::Shape {
            op: "layer_features",
            node: "encoder".to_string(),
            message: format!("layer {k} of an encoder with {} layers", spec.depth),
        })?;
        // The last layer is `features` itself: the same value, not a second output.
        if k != spec.depth {
            let v = pooled(&mut m, h)?;
            outs.push((layer_output(k, spec.depth), v));
        }
    }
    let params = std::mem::take(&mut m.params);
    g.output("features", f)?;
    for (name, v) in outs {
        g.output(&name, v)?;
    }
    Ok(TaskGraph {
        graph: g,
        params,
        trainable: vec![],
    })
}

/// The classifier head alone on precomputed `features [rows, D]` with `labels [rows]`
/// (rows = B for sequence tasks, B·T for tagging). Parameter names match [`task_graph`]'s head.
pub fn head_graph(
    d_model: usize,
    classes: usize,
    rows: usize,
    dropout: f64,
    mode: &Mode,
    dtype: DType,
    seed: i64,
) -> graph::Result<TaskGraph> {
    let mut g = Graph::new("head");
    let train = matches!(mode, Mode::Train { .. });
    let mut m = ModelBuilder::new(&mut g, dtype, train, seed);
    let feats = m.g.input(Input::Features.name(), dtype, &[rows, d_model])?;
    let labels = m.g.input(Input::Labels.name(), DType::I64, &[rows])?;
    let logits = classifier(&mut m, feats, classes, dropout)?;
    let loss = m.g.softmax_cross_entropy(logits, labels, IGNORE_INDEX)?;
    let params = std::mem::take(&mut m.params);
    finish(g, params, loss, logits, mode)
}

/// The span head alone on precomputed `features [B·T, D]` (inputs `span_mask [B, T]`, `labels
/// [2·B]`, as in [`task_graph`]); parameter names match [`task_graph`]'s head.
pub fn span_head_graph(
    d_model: usize,
    batch: usize,
    seq: usize,
    dropout: f64,
    mode: &Mode,
    dtype: DType,
    seed: i64,
) -> graph::Result<TaskGraph> {
    let mut g = Graph::new("head");
    let train = matches!(mode, Mode::Train { .. });
    let mut m = ModelBuilder::new(&mut g, dtype, train, seed);
    let feats =
        m.g.input(Input::Features.name(), dtype, &[batch * seq, d_model])?;
    let (loss, logits) = span_head(&mut m, feats, batch, seq, dropout)?;
    let params = std::mem::take(&mut m.params);
    finish(g, params, loss, logits, mode)
}

/// The head of `head` alone on precomputed features (feature extraction): the classifier on
/// [`TaskHead::feature_rows`] rows, or the span head on every token. Parameter names match
/// [`task_graph`]'s head.
#[allow(clippy::too_many_arguments)]
pub fn task_head_graph(
    head: TaskHead,
    d_model: usize,
    batch: usize,
    seq: usize,
    dropout: f64,
    mode: &Mode,
    dtype: DType,
    seed: i64,
) -> graph::Result<TaskGraph> {
    match head {
        TaskHead::Classify { classes, .. } | TaskHead::Tag { classes } => {
            let rows = head.feature_rows(batch, seq);
            head_graph(d_model, classes, rows, dropout, mode, dtype, seed)
        }
        TaskHead::Span => span_head_graph(d_model, batch, seq, dropout, mode, dtype, seed),
    }
}
