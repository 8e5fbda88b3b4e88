//! Reverse-mode automatic differentiation over the IR: one walk over the nodes in reverse
//! topological order that calls each op's vector-Jacobian rule (beside the op's forward rule in
//! `graph::ops`) and sums gradients reaching the same value. The gradient nodes are appended to the
//! same graph, named `grad.<forward node>`, so one ONNX graph computes loss and gradients.

use super::error::{GraphError, Result};
use super::ir::{Graph, ValueId};

/// Appends the gradient of the scalar `loss` with respect to each of `wrt` to the graph.
/// Returns `None` for a value the loss does not depend on.
pub fn backward(g: &mut Graph, loss: ValueId, wrt: &[ValueId]) -> Result<Vec<Option<ValueId>>> {
    let ldt = g.dtype(loss);
    if !g.shape(loss).is_empty() || !ldt.is_float() {
        return Err(GraphError::NonScalarLoss {
            dtype: ldt,
            shape: g.shape(loss).to_vec(),
        });
    }
    let n_nodes = g.nodes.len();
    // Which values depend on a value we differentiate with respect to (float values only).
    let mut requires = vec![false; g.values.len()];
    for &w in wrt {
        requires[w.0] = true;
    }
    for node in &g.nodes[..n_nodes] {
        if node.inputs.iter().any(|i| requires[i.0]) {
            for o in &node.outputs {
                requires[o.0] = g.values[o.0].dtype.is_float();
            }
        }
    }
    let mut grads: Vec<Option<ValueId>> = vec![None; g.values.len()];
    grads[loss.0] = Some(g.scalar(ldt, 1.0));
    for idx in (0..n_nodes).rev() {
        let node = &g.nodes[idx];
        if node.inputs.is_empty() || !node.outputs.iter().any(|o| grads[o.0].is_some()) {
            continue;
        }
        let needs: Vec<bool> = node.inputs.iter().map(|i| requires[i.0]).collect();
        if !needs.iter().any(|&n| n) {
            continue;
        }
        let node = node.clone();
        let gout: Vec<Option<ValueId>> = node.outputs.iter().map(|o| grads[o.0]).collect();
        let gin = node.op.vjp(g, &node, &gout, &needs)?;
        for ((inp, gi), need) in node.inputs.iter().zip(gin).zip(&needs) {
            let (Some(gi), true) = (gi, *need) else {
                continue;
            };
            grads[inp.0] = Some(match grads[inp.0] {
                None => gi,
                Some(prev) => g.scoped(&format!("grad.{}", node.name), |g| g.add(prev, gi))?,
            });
        }
        grads.resize(g.values.len(), None);
    }
    Ok(wrt.iter().map(|w| grads[w.0]).collect())
}

/// Like [`backward`], with zeros for values the loss does not depend on.
pub fn backward_or_zeros(g: &mut Graph, loss: ValueId, wrt: &[ValueId]) -> Result<Vec<ValueId>> {
    let grads = backward(g, loss, wrt)?;
    grads
        .into_iter()
        .zip(wrt)
        .map(|(d, &w)| match d {
            Some(d) => Ok(d),
            None => {
                let (dt, s) = (g.dtype(w), g.shape(w).to_vec());
                g.zeros(dt, &s)
            }
        })
        .collect()
}
