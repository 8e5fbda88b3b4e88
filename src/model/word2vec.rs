//! Skip-gram with negative sampling (word2vec's SGNS), the upstream "word embedding model that
//! needs training", as a graph: `loss = −log σ(u·v⁺) − Σ log σ(−u·v⁻)`, written as a two-class
//! softmax cross-entropy over `[0, score]` so the op set (and its finite-difference-checked
//! backward rules) stays the same as the encoder's.

use super::inputs::Input;
use super::params::{Init, ModelBuilder};
use super::tasks::{Mode, TaskGraph};
use crate::graph::{self, DType, Graph, Tensor};

/// The input-vector table (the word vectors one keeps) and the output-vector table.
pub const IN_VECTORS: &str = "word2vec.in";
pub const OUT_VECTORS: &str = "word2vec.out";

/// Batch inputs: `center [B]`, `context [B]`, `negative [B, K]` (i64 token ids).
pub fn sgns_graph(
    vocab: usize,
    dim: usize,
    batch: usize,
    negatives: usize,
    mode: &Mode,
) -> graph::Result<TaskGraph> {
    let mut g = Graph::new("word2vec");
    let mut m = ModelBuilder::new(&mut g, DType::F32, false, 0);
    let center = m.g.input(Input::Center.name(), DType::I64, &[batch])?;
    let context = m.g.input(Input::Context.name(), DType::I64, &[batch])?;
    let negative =
        m.g.input(Input::Negative.name(), DType::I64, &[batch, negatives])?;
    let w_in = m.param(IN_VECTORS, &[vocab, dim], Init::Normal(0.5 / dim as f64))?;
    let w_out = m.param(OUT_VECTORS, &[vocab, dim], Init::Zeros)?;
    let n = batch * (1 + negatives);
    let loss = m.g.scoped("sgns", |g| -> graph::Result<_> {
        let u = g.gather(w_in, center, 0)?;
        let vp = g.gather(w_out, context, 0)?;
        let vn = g.gather(w_out, negative, 0)?;
        let pos = g.mul(u, vp)?;
        let pos = g.reduce_sum(pos, &[-1], true)?; // [B, 1]
        let u3 = g.reshape(u, &[batch, 1, dim])?;
        let neg = g.mul(u3, vn)?;
        let neg = g.reduce_sum(neg, &[-1], false)?; // [B, K]
        let scores = g.concat(&[pos, neg], 1)?;
        let scores = g.reshape(scores, &[n, 1])?;
        let zeros = g.zeros(DType::F32, &[n, 1])?;
        let logits = g.concat(&[zeros, scores], 1)?;
        // Class 1 ("is a context word") for the positive, class 0 for the negatives.
        let labels: Vec<i64> = (0..n).map(|i| (i % (1 + negatives) == 0) as i64).collect();
        let labels = g.constant(Tensor::i64(vec![n], labels));
        g.softmax_cross_entropy(logits, labels, crate::data::IGNORE_INDEX)
    })?;
    let params = std::mem::take(&mut m.params);
    g.output("loss", loss)?;
    let mut trainable = Vec::new();
    if let Mode::Train { .. } = mode {
        let wrt = [w_in, w_out];
        let grads = graph::backward_or_zeros(&mut g, loss, &wrt)?;
        for (name, d) in [IN_VECTORS, OUT_VECTORS].iter().zip(grads) {
            g.output(&format!("grad.{name}"), d)?;
            trainable.push(name.to_string());
        }
    }
    Ok(TaskGraph {
        graph: g,
        params,
        trainable,
    })
}
