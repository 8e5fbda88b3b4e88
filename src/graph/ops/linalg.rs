//! MatMul (batched, broadcasting batch dimensions) and the reductions ReduceSum / ReduceMean /
//! ReduceMax.
//! Builder (shape rule), ONNX emission and vector-Jacobian rule side by side.

use super::family::op_family;
use crate::graph::error::{GraphError, Result};
use crate::graph::export::{Emitter, attr_int};
use crate::graph::ir::{Graph, Node, ValueId};

op_family! {
    /// Matrix products and reductions.
    pub enum LinalgOp / LinalgKind {
        MatMul,
        ReduceSum { axes: Vec<usize>, keepdims: bool },
        ReduceMean { axes: Vec<usize>, keepdims: bool },
        ReduceMax { axes: Vec<usize>, keepdims: bool },
    }
}

impl LinalgKind {
    pub fn differentiable(self) -> bool {
        match self {
            LinalgKind::MatMul
            | LinalgKind::ReduceSum
            | LinalgKind::ReduceMean
            | LinalgKind::ReduceMax => true,
        }
    }
}

/// Which reduction [`Graph::reduce`] builds.
#[derive(Debug, Clone, Copy)]
enum Reduction {
    Sum,
    Mean,
    Max,
}

impl Graph {
    /// `a @ b` for `a: [..., m, k]`, `b: [..., k, n]` (ranks ≥ 2; batch dims broadcast) → `[..., m, n]`.
    pub fn matmul(&mut self, a: ValueId, b: ValueId) -> Result<ValueId> {
        let (sa, sb) = (self.shape(a).to_vec(), self.shape(b).to_vec());
        let bad = || GraphError::Shape {
            op: "MatMul",
            node: self.here("MatMul"),
            message: format!("cannot multiply {sa:?} by {sb:?}"),
        };
        if sa.len() < 2 || sb.len() < 2 || sa[sa.len() - 1] != sb[sb.len() - 2] {
            return Err(bad());
        }
        if self.dtype(a) != self.dtype(b) {
            return Err(GraphError::DType {
                op: "MatMul",
                node: self.here("MatMul"),
                expected: self.dtype(a).to_string(),
                found: self.dtype(b),
            });
        }
        let mut shape =
            super::elementwise::broadcast_shapes(&sa[..sa.len() - 2], &sb[..sb.len() - 2])
                .ok_or_else(bad)?;
        shape.push(sa[sa.len() - 2]);
        shape.push(sb[sb.len() - 1]);
        let dt = self.dtype(a);
        Ok(self.push1("matmul", LinalgOp::MatMul, vec![a, b], dt, shape))
    }

    fn reduce(
        &mut self,
        r: Reduction,
        x: ValueId,
        axes: &[i64],
        keepdims: bool,
    ) -> Result<ValueId> {
        let name = match r {
            Reduction::Sum => "ReduceSum",
            Reduction::Mean => "ReduceMean",
            Reduction::Max => "ReduceMax",
        };
        let s = self.shape(x).to_vec();
        let mut ax = Vec::new();
        for &a in axes {
            ax.push(self.axis(name, a, s.len())?);
        }
        ax.sort_unstable();
        ax.dedup();
        let shape: Vec<usize> = if keepdims {
            s.iter()
                .enumerate()
                .map(|(i, &d)| if ax.contains(&i) { 1 } else { d })
                .collect()
        } else {
            s.iter()
                .enumerate()
                .filter(|(i, _)| !ax.contains(i))
                .map(|(_, &d)| d)
                .collect()
        };
        let (op, base) = match r {
            Reduction::Sum => (LinalgOp::ReduceSum { axes: ax, keepdims }, "reduce_sum"),
            Reduction::Mean => (LinalgOp::ReduceMean { axes: ax, keepdims }, "reduce_mean"),
            Reduction::Max => (LinalgOp::ReduceMax { axes: ax, keepdims }, "reduce_max"),
        };
        let dt = self.dtype(x);
        Ok(self.push1(base, op, vec![x], dt, shape))
    }

    /// Sum over `axes` (negative axes count from the end).
    pub fn reduce_sum(&mut self, x: ValueId, axes: &[i64], keepdims: bool) -> Result<ValueId> {
        self.reduce(Reduction::Sum, x, axes, keepdims)
    }
    /// Mean over `axes`.
    pub fn reduce_mean(&mut self, x: ValueId, axes: &[i64], keepdims: bool) -> Result<ValueId> {
        self.reduce(Reduction::Mean, x, axes, keepdims)
    }
    /// Maximum over `axes`; its gradient goes to the maximal elements (shared equally on ties).
    pub fn reduce_max(&mut self, x: ValueId, axes: &[i64], keepdims: bool) -> Result<ValueId> {
        self.reduce(Reduction::Max, x, axes, keepdims)
    }
    /// Sum of all elements, a scalar.
    pub fn sum_all(&mut self, x: ValueId) -> Result<ValueId> {
        let axes: Vec<i64> = (0..self.shape(x).len() as i64).collect();
        if axes.is_empty() {
            return Ok(x);
        }
        self.reduce_sum(x, &axes, false)
    }
}

impl LinalgOp {
    /// Vector-Jacobian products (see `Op::vjp`).
    pub(crate) fn vjp(
        &self,
        g: &mut Graph,
        node: &Node,
        gout: &[Option<ValueId>],
        needs: &[bool],
    ) -> Result<Vec<Option<ValueId>>> {
        let Some(dy) = gout[0] else {
            return Ok(vec![None; node.inputs.len()]);
        };
        let scope = format!("grad.{}", node.name);
        g.scoped(&scope, |g| -> Result<Vec<Option<ValueId>>> {
            Ok(match self {
                LinalgOp::MatMul => {
                    // C = A B: dA = dC Bᵀ, dB = Aᵀ dC, each summed over broadcast batch dims.
                    let (a, b) = (node.inputs[0], node.inputs[1]);
                    let (sa, sb) = (g.shape(a).to_vec(), g.shape(b).to_vec());
                    let da = if needs[0] {
                        let bt = g.transpose_last2(b)?;
                        let t = g.matmul(dy, bt)?;
                        Some(g.reduce_to_shape(t, &sa)?)
                    } else {
                        None
                    };
                    let db = if needs[1] {
                        if sb.len() == 2 && sa.len() > 2 {
                            // Fold the batch dims into rows: one [k, rows] x [rows, n] product.
                            let k = sa[sa.len() - 1];
                            let rows = sa[..sa.len() - 1].iter().product();
                            let n = sb[1];
                            let a2 = g.reshape(a, &[rows, k])?;
                            let d2 = g.reshape(dy, &[rows, n])?;
                            let at = g.transpose(a2, &[1, 0])?;
                            Some(g.matmul(at, d2)?)
                        } else {
                            let at = g.transpose_last2(a)?;
                            let t = g.matmul(at, dy)?;
                            Some(g.reduce_to_shape(t, &sb)?)
                        }
                    } else {
                        None
                    };
                    vec![da, db]
                }
                LinalgOp::ReduceSum { axes, keepdims } => {
                    vec![Some(reduce_vjp(g, node, dy, axes, *keepdims, false)?)]
                }
                LinalgOp::ReduceMean { axes, keepdims } => {
                    vec![Some(reduce_vjp(g, node, dy, axes, *keepdims, true)?)]
                }
                LinalgOp::ReduceMax { axes, keepdims } => {
                    vec![Some(reduce_max_vjp(g, node, dy, axes, *keepdims)?)]
                }
            })
        })
    }

    /// Emits the ONNX node.
    pub(crate) fn emit(&self, e: &mut Emitter, node: &Node) {
        let mut ins = e.input_names(node);
        let outs = e.output_names(node);
        let n = &node.name;
        match self {
            LinalgOp::MatMul => e.node("MatMul", n, ins, outs, vec![]),
            LinalgOp::ReduceSum { axes, keepdims }
            | LinalgOp::ReduceMean { axes, keepdims }
            | LinalgOp::ReduceMax { axes, keepdims } => {
                let a: Vec<i64> = axes.iter().map(|&x| x as i64).collect();
                ins.push(e.const_i64(n, &a));
                e.node(
                    self.kind().name(),
                    n,
                    ins,
                    outs,
                    vec![attr_int("keepdims", *keepdims as i64)],
                );
            }
        }
    }
}

/// The gradient of a maximum over `axes`: `dy` at the elements equal to the maximum, divided
/// among them when several are (a subgradient; ties are rare in real features).
fn reduce_max_vjp(
    g: &mut Graph,
    node: &Node,
    dy: ValueId,
    axes: &[usize],
    keepdims: bool,
) -> Result<ValueId> {
    let x = node.inputs[0];
    let xs = g.shape(x).to_vec();
    let kshape: Vec<usize> = xs
        .iter()
        .enumerate()
        .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
        .collect();
    let (y, dy) = if keepdims {
        (node.outputs[0], dy)
    } else {
        (
            g.reshape(node.outputs[0], &kshape)?,
            g.reshape(dy, &kshape)?,
        )
    };
    let hit = g.equal(x, y)?;
    let hit = g.cast(hit, g.dtype(x))?;
    let ax: Vec<i64> = axes.iter().map(|&a| a as i64).collect();
    let count = g.reduce_sum(hit, &ax, true)?;
    let share = g.div(dy, count)?;
    g.mul(hit, share)
}

/// The gradient of a sum (or mean) over `axes`: `dy` broadcast back to the input's shape (and
/// divided by the number of elements reduced).
fn reduce_vjp(
    g: &mut Graph,
    node: &Node,
    dy: ValueId,
    axes: &[usize],
    keepdims: bool,
    mean: bool,
) -> Result<ValueId> {
    let xs = g.shape(node.inputs[0]).to_vec();
    let kshape: Vec<usize> = xs
        .iter()
        .enumerate()
        .map(|(i, &d)| if axes.contains(&i) { 1 } else { d })
        .collect();
    let d = if keepdims {
        dy
    } else {
        g.reshape(dy, &kshape)?
    };
    let d = g.expand(d, &xs)?;
    if mean {
        let count: usize = axes.iter().map(|&a| xs[a]).product();
        g.mul_scalar(d, 1.0 / count as f64)
    } else {
        Ok(d)
    }
}
