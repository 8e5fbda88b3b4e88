//! Neural-network ops: Softmax, LogSoftmax, LayerNorm and SoftmaxCrossEntropy.
//! Builder (shape rule), ONNX emission and vector-Jacobian rule side by side.

use super::family::op_family;
use crate::graph::error::{GraphError, Result};
use crate::graph::export::{Emitter, attr_float, attr_int, attr_string};
use crate::graph::ir::{Graph, Node, ValueId};
use crate::graph::{DType, Tensor};

op_family! {
    /// Normalisations and losses.
    pub enum NnOp / NnKind {
        Softmax { axis: usize },
        LogSoftmax { axis: usize },
        LayerNorm { eps: f64 },
        SoftmaxCrossEntropy { ignore_index: i64 },
    }
}

impl NnKind {
    pub fn differentiable(self) -> bool {
        match self {
            NnKind::Softmax
            | NnKind::LogSoftmax
            | NnKind::LayerNorm
            | NnKind::SoftmaxCrossEntropy => true,
        }
    }
}

impl Graph {
    /// Softmax along `axis`.
    pub fn softmax(&mut self, x: ValueId, axis: i64) -> Result<ValueId> {
        let a = self.axis("Softmax", axis, self.shape(x).len())?;
        let (dt, s) = (self.dtype(x), self.shape(x).to_vec());
        Ok(self.push1("softmax", NnOp::Softmax { axis: a }, vec![x], dt, s))
    }
    /// Log-softmax along `axis`.
    pub fn log_softmax(&mut self, x: ValueId, axis: i64) -> Result<ValueId> {
        let a = self.axis("LogSoftmax", axis, self.shape(x).len())?;
        let (dt, s) = (self.dtype(x), self.shape(x).to_vec());
        Ok(self.push1("log_softmax", NnOp::LogSoftmax { axis: a }, vec![x], dt, s))
    }

    /// Layer normalisation over the last axis: `(x - mean) / sqrt(var + eps) * scale + bias`, with
    /// `scale`, `bias: [D]`. Returns y; the node also outputs the mean and inverse standard deviation
    /// (shape `x[..-1] ++ [1]`) that its backward rule reuses. f64 graphs are lowered to primitive
    /// ops (ONNX Runtime has no f64 LayerNormalization kernel).
    pub fn layer_norm(
        &mut self,
        x: ValueId,
        scale: ValueId,
        bias: ValueId,
        eps: f64,
    ) -> Result<ValueId> {
        let s = self.shape(x).to_vec();
        let d = *s.last().ok_or_else(|| GraphError::Shape {
            op: "LayerNorm",
            node: self.here("LayerNorm"),
            message: "rank 0 input".into(),
        })?;
        for p in [scale, bias] {
            if self.shape(p) != [d] {
                return Err(GraphError::Shape {
                    op: "LayerNorm",
                    node: self.here("LayerNorm"),
                    message: format!("scale and bias must be [{d}], found {:?}", self.shape(p)),
                });
            }
        }
        let dt = self.dtype(x);
        let mut stat = s.clone();
        *stat.last_mut().unwrap() = 1;
        let outs = self.push(
            "layer_norm",
            NnOp::LayerNorm { eps },
            vec![x, scale, bias],
            vec![(dt, s), (dt, stat.clone()), (dt, stat)],
        );
        Ok(outs[0])
    }

    /// Cross-entropy of `scores: [N, C]` against i64 `labels: [N]`, averaged over the labels that
    /// are not `ignore_index` (ONNX SoftmaxCrossEntropyLoss, reduction mean). Returns the scalar loss;
    /// the node's second output is the log-probabilities `[N, C]`.
    pub fn softmax_cross_entropy(
        &mut self,
        scores: ValueId,
        labels: ValueId,
        ignore_index: i64,
    ) -> Result<ValueId> {
        let (ss, ls) = (self.shape(scores).to_vec(), self.shape(labels).to_vec());
        if ss.len() != 2 || ls != [ss[0]] {
            return Err(GraphError::Shape {
                op: "SoftmaxCrossEntropy",
                node: self.here("SoftmaxCrossEntropy"),
                message: format!("expected scores [N, C] and labels [N], found {ss:?} and {ls:?}"),
            });
        }
        if self.dtype(labels) != DType::I64 {
            return Err(GraphError::DType {
                op: "SoftmaxCrossEntropy",
                node: self.here("SoftmaxCrossEntropy"),
                expected: "i64".into(),
                found: self.dtype(labels),
            });
        }
        let dt = self.dtype(scores);
        let outs = self.push(
            "xent",
            NnOp::SoftmaxCrossEntropy { ignore_index },
            vec![scores, labels],
            vec![(dt, vec![]), (dt, ss)],
        );
        Ok(outs[0])
    }

    /// The log-probabilities output of a `softmax_cross_entropy` loss value.
    pub fn xent_log_probs(&self, loss: ValueId) -> ValueId {
        self.producer(loss).outputs[1]
    }
}

impl NnOp {
    /// Vector-Jacobian products (see `Op::vjp`).
    pub(crate) fn vjp(
        &self,
        g: &mut Graph,
        node: &Node,
        gout: &[Option<ValueId>],
        needs: &[bool],
    ) -> Result<Vec<Option<ValueId>>> {
        let Some(dy) = gout[0] else {
            if gout.iter().skip(1).any(|o| o.is_some()) {
                return Err(GraphError::NoGradient {
                    op: self.kind().name(),
                    node: node.name.clone(),
                    reason: " through its auxiliary outputs".into(),
                });
            }
            return Ok(vec![None; node.inputs.len()]);
        };
        if gout.iter().skip(1).any(|o| o.is_some()) {
            return Err(GraphError::NoGradient {
                op: self.kind().name(),
                node: node.name.clone(),
                reason: " through its auxiliary outputs".into(),
            });
        }
        let y = node.outputs[0];
        let dt = g.dtype(y);
        let scope = format!("grad.{}", node.name);
        g.scoped(&scope, |g| -> Result<Vec<Option<ValueId>>> {
            Ok(match self {
                NnOp::Softmax { axis } => {
                    // dx = y ⊙ (dy − Σ(dy ⊙ y))
                    let a = *axis as i64;
                    let dyy = g.mul(dy, y)?;
                    let s = g.reduce_sum(dyy, &[a], true)?;
                    let t = g.sub(dy, s)?;
                    vec![Some(g.mul(y, t)?)]
                }
                NnOp::LogSoftmax { axis } => {
                    // dx = dy − softmax(x) Σ dy
                    let a = *axis as i64;
                    let s = g.reduce_sum(dy, &[a], true)?;
                    let p = g.exp(y)?;
                    let t = g.mul(p, s)?;
                    vec![Some(g.sub(dy, t)?)]
                }
                NnOp::LayerNorm { .. } => {
                    // x̂ = (x − μ)·r; y = x̂·γ + β.
                    // dβ = Σ dy, dγ = Σ dy·x̂ (over leading dims);
                    // dx = r·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = dy·γ.
                    let (x, scale) = (node.inputs[0], node.inputs[1]);
                    let (mean, inv) = (node.outputs[1], node.outputs[2]);
                    let d = *g.shape(x).last().unwrap();
                    let xc = g.sub(x, mean)?;
                    let xhat = g.mul(xc, inv)?;
                    let dbias = if needs[2] {
                        Some(g.reduce_to_shape(dy, &[d])?)
                    } else {
                        None
                    };
                    let dscale = if needs[1] {
                        let t = g.mul(dy, xhat)?;
                        Some(g.reduce_to_shape(t, &[d])?)
                    } else {
                        None
                    };
                    let dx = if needs[0] {
                        let dxh = g.mul(dy, scale)?;
                        let m1 = g.reduce_mean(dxh, &[-1], true)?;
                        let p = g.mul(dxh, xhat)?;
                        let m2 = g.reduce_mean(p, &[-1], true)?;
                        let t = g.sub(dxh, m1)?;
                        let u = g.mul(xhat, m2)?;
                        let t = g.sub(t, u)?;
                        Some(g.mul(t, inv)?)
                    } else {
                        None
                    };
                    vec![dx, dscale, dbias]
                }
                NnOp::SoftmaxCrossEntropy { ignore_index } => {
                    // d loss / d scores = (softmax − onehot(label)) · w, w = valid · dy / count:
                    // softmax · w everywhere, then each row's label entry replaced by
                    // (p_label − 1) · w (ignored rows: w = 0, column 0 rewritten with p · 0).
                    // The same arithmetic per element as building the one-hot, without the
                    // [N, C] compare, cast and subtraction.
                    let (scores, labels) = (node.inputs[0], node.inputs[1]);
                    let (n, c) = (g.shape(scores)[0], g.shape(scores)[1]);
                    let logp = node.outputs[1];
                    let p = g.exp(logp)?;
                    let ig = g.scalar(DType::I64, *ignore_index as f64);
                    let is_ig = g.equal(labels, ig)?;
                    let zero = g.scalar(dt, 0.0);
                    let one = g.scalar(dt, 1.0);
                    let valid = g.where_(is_ig, zero, one)?;
                    let count = g.sum_all(valid)?;
                    let w = g.div(valid, count)?;
                    let w = g.mul(w, dy)?;
                    let wc = g.reshape(w, &[n, 1])?;
                    let pw = g.mul(p, wc)?;
                    let col0 = g.scalar(DType::I64, 0.0);
                    let at = g.where_(is_ig, col0, labels)?;
                    // p at (i, at_i), read from the flattened [N·C] softmax.
                    let starts: Vec<i64> = (0..n as i64).map(|i| i * c as i64).collect();
                    let starts = g.constant(Tensor::i64(vec![n], starts));
                    let flat_at = g.add(starts, at)?;
                    let flat = g.reshape(p, &[n * c])?;
                    let p_at = g.gather(flat, flat_at, 0)?;
                    let d_at = g.sub(p_at, valid)?;
                    let d_at = g.mul(d_at, w)?;
                    let d_at = g.reshape(d_at, &[n, 1])?;
                    let at = g.reshape(at, &[n, 1])?;
                    vec![Some(g.scatter(pw, at, d_at, 1)?), None]
                }
            })
        })
    }

    /// Emits the ONNX node (a lowering to primitive ops for f64 LayerNorm).
    pub(crate) fn emit(&self, e: &mut Emitter, node: &Node) {
        let ins = e.input_names(node);
        let outs = e.output_names(node);
        let n = &node.name;
        let dt = e.graph.dtype(node.outputs[0]);
        match self {
            NnOp::Softmax { axis } | NnOp::LogSoftmax { axis } => e.node(
                self.kind().name(),
                n,
                ins,
                outs,
                vec![attr_int("axis", *axis as i64)],
            ),
            NnOp::LayerNorm { eps } if dt == DType::F64 => {
                let ax = e.const_i64(n, &[-1]);
                let keep = || vec![attr_int("keepdims", 1)];
                e.node(
                    "ReduceMean",
                    &format!("{n}/mean"),
                    vec![ins[0].clone(), ax.clone()],
                    vec![outs[1].clone()],
                    keep(),
                );
                let xc = e.tmp(n, "xc");
                e.node(
                    "Sub",
                    &format!("{n}/xc"),
                    vec![ins[0].clone(), outs[1].clone()],
                    vec![xc.clone()],
                    vec![],
                );
                let sq = e.tmp(n, "sq");
                e.node(
                    "Mul",
                    &format!("{n}/sq"),
                    vec![xc.clone(), xc.clone()],
                    vec![sq.clone()],
                    vec![],
                );
                let var = e.tmp(n, "var");
                e.node(
                    "ReduceMean",
                    &format!("{n}/var"),
                    vec![sq, ax],
                    vec![var.clone()],
                    keep(),
                );
                let epsc = e.const_scalar(n, DType::F64, *eps);
                let ve = e.tmp(n, "ve");
                e.node(
                    "Add",
                    &format!("{n}/ve"),
                    vec![var, epsc],
                    vec![ve.clone()],
                    vec![],
                );
                let sd = e.tmp(n, "sd");
                e.node(
                    "Sqrt",
                    &format!("{n}/sd"),
                    vec![ve],
                    vec![sd.clone()],
                    vec![],
                );
                e.node(
                    "Reciprocal",
                    &format!("{n}/inv"),
                    vec![sd],
                    vec![outs[2].clone()],
                    vec![],
                );
                let xh = e.tmp(n, "xhat");
                e.node(
                    "Mul",
                    &format!("{n}/xhat"),
                    vec![xc, outs[2].clone()],
                    vec![xh.clone()],
                    vec![],
                );
                let sc = e.tmp(n, "scaled");
                e.node(
                    "Mul",
                    &format!("{n}/scaled"),
                    vec![xh, ins[1].clone()],
                    vec![sc.clone()],
                    vec![],
                );
                e.node(
                    "Add",
                    n,
                    vec![sc, ins[2].clone()],
                    vec![outs[0].clone()],
                    vec![],
                );
            }
            NnOp::LayerNorm { eps } => e.node(
                "LayerNormalization",
                n,
                ins,
                outs,
                vec![
                    attr_int("axis", -1),
                    attr_float("epsilon", *eps as f32),
                    attr_int("stash_type", 1),
                ],
            ),
            NnOp::SoftmaxCrossEntropy { ignore_index } => e.node(
                "SoftmaxCrossEntropyLoss",
                n,
                ins,
                outs,
                vec![
                    attr_string("reduction", "mean"),
                    attr_int("ignore_index", *ignore_index),
                ],
            ),
        }
    }
}
