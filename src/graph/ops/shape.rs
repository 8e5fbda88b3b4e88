//! Ops that move data without arithmetic: Reshape, Transpose, Expand, Concat, Split, Slice, Pad,
//! Gather and ScatterAdd. Builder (shape rule), ONNX emission and vector-Jacobian rule side by side.

use crate::graph::DType;
use crate::graph::error::{GraphError, Result};
use crate::graph::export::{Emitter, attr_int, attr_ints, attr_string};
use crate::graph::ir::{Graph, Node, Op, ValueId};

impl Graph {
    fn shape_err(&self, op: &'static str, message: String) -> GraphError {
        GraphError::Shape {
            op,
            node: self.here(op),
            message,
        }
    }

    /// Same data, new static shape (element counts must match).
    pub fn reshape(&mut self, x: ValueId, shape: &[usize]) -> Result<ValueId> {
        let n: usize = shape.iter().product();
        if n != self.numel(x) {
            return Err(self.shape_err(
                "Reshape",
                format!("cannot reshape {:?} to {shape:?}", self.shape(x)),
            ));
        }
        let dt = self.dtype(x);
        Ok(self.push1(
            "reshape",
            Op::Reshape {
                shape: shape.to_vec(),
            },
            vec![x],
            dt,
            shape.to_vec(),
        ))
    }

    /// Permutes the axes: output axis i is input axis `perm[i]`.
    pub fn transpose(&mut self, x: ValueId, perm: &[usize]) -> Result<ValueId> {
        let s = self.shape(x).to_vec();
        let mut sorted = perm.to_vec();
        sorted.sort_unstable();
        if sorted != (0..s.len()).collect::<Vec<_>>() {
            return Err(self.shape_err(
                "Transpose",
                format!("perm {perm:?} is not a permutation of rank {}", s.len()),
            ));
        }
        let shape = perm.iter().map(|&p| s[p]).collect();
        let dt = self.dtype(x);
        Ok(self.push1(
            "transpose",
            Op::Transpose {
                perm: perm.to_vec(),
            },
            vec![x],
            dt,
            shape,
        ))
    }

    /// Swaps the last two axes.
    pub fn transpose_last2(&mut self, x: ValueId) -> Result<ValueId> {
        let r = self.shape(x).len();
        if r < 2 {
            return Err(self.shape_err("Transpose", "needs rank ≥ 2".into()));
        }
        let mut perm: Vec<usize> = (0..r).collect();
        perm.swap(r - 1, r - 2);
        self.transpose(x, &perm)
    }

    /// Broadcasts `x` to `shape` (numpy rules; the result has exactly `shape`).
    pub fn expand(&mut self, x: ValueId, shape: &[usize]) -> Result<ValueId> {
        let s = self.shape(x).to_vec();
        if super::elementwise::broadcast_shapes(&s, shape).as_deref() != Some(shape) {
            return Err(GraphError::Broadcast {
                op: "Expand",
                node: self.here("Expand"),
                lhs: s,
                rhs: shape.to_vec(),
            });
        }
        let dt = self.dtype(x);
        Ok(self.push1(
            "expand",
            Op::Expand {
                shape: shape.to_vec(),
            },
            vec![x],
            dt,
            shape.to_vec(),
        ))
    }

    /// Joins tensors along `axis`; all other dimensions must agree.
    pub fn concat(&mut self, xs: &[ValueId], axis: i64) -> Result<ValueId> {
        let first = self.shape(xs[0]).to_vec();
        let a = self.axis("Concat", axis, first.len())?;
        let mut shape = first.clone();
        shape[a] = 0;
        for &x in xs {
            let s = self.shape(x);
            if s.len() != first.len() || (0..s.len()).any(|i| i != a && s[i] != first[i]) {
                return Err(self.shape_err(
                    "Concat",
                    format!("shapes {first:?} and {s:?} differ off axis {a}"),
                ));
            }
            shape[a] += s[a];
        }
        let dt = self.dtype(xs[0]);
        Ok(self.push1("concat", Op::Concat { axis: a }, xs.to_vec(), dt, shape))
    }

    /// Splits along `axis` into parts of the given sizes (which must sum to the axis length).
    pub fn split(&mut self, x: ValueId, axis: i64, sizes: &[usize]) -> Result<Vec<ValueId>> {
        let s = self.shape(x).to_vec();
        let a = self.axis("Split", axis, s.len())?;
        if sizes.iter().sum::<usize>() != s[a] {
            return Err(self.shape_err("Split", format!("sizes {sizes:?} do not sum to {}", s[a])));
        }
        let dt = self.dtype(x);
        let outs = sizes
            .iter()
            .map(|&n| {
                let mut o = s.clone();
                o[a] = n;
                (dt, o)
            })
            .collect();
        Ok(self.push(
            "split",
            Op::Split {
                axis: a,
                sizes: sizes.to_vec(),
            },
            vec![x],
            outs,
        ))
    }

    /// Elements `start..end` along `axis`.
    pub fn slice(&mut self, x: ValueId, axis: i64, start: usize, end: usize) -> Result<ValueId> {
        let s = self.shape(x).to_vec();
        let a = self.axis("Slice", axis, s.len())?;
        if start >= end || end > s[a] {
            return Err(self.shape_err(
                "Slice",
                format!("range {start}..{end} invalid for length {}", s[a]),
            ));
        }
        let mut shape = s;
        shape[a] = end - start;
        let dt = self.dtype(x);
        Ok(self.push1(
            "slice",
            Op::Slice {
                axis: a,
                start,
                end,
            },
            vec![x],
            dt,
            shape,
        ))
    }

    /// Pads `axis` with `before` and `after` zeros.
    pub fn pad(&mut self, x: ValueId, axis: i64, before: usize, after: usize) -> Result<ValueId> {
        let s = self.shape(x).to_vec();
        let a = self.axis("Pad", axis, s.len())?;
        let mut shape = s;
        shape[a] += before + after;
        let dt = self.dtype(x);
        Ok(self.push1(
            "pad",
            Op::Pad {
                axis: a,
                before,
                after,
            },
            vec![x],
            dt,
            shape,
        ))
    }

    /// Gathers slices of `data` along `axis` at i64 `indices`: the output shape is
    /// `data[..axis] ++ indices ++ data[axis+1..]`. Embedding lookup is `gather(table, ids, 0)`.
    pub fn gather(&mut self, data: ValueId, indices: ValueId, axis: i64) -> Result<ValueId> {
        if self.dtype(indices) != DType::I64 {
            return Err(GraphError::DType {
                op: "Gather",
                node: self.here("Gather"),
                expected: "i64".into(),
                found: self.dtype(indices),
            });
        }
        let s = self.shape(data).to_vec();
        let a = self.axis("Gather", axis, s.len())?;
        let mut shape = s[..a].to_vec();
        shape.extend_from_slice(self.shape(indices));
        shape.extend_from_slice(&s[a + 1..]);
        let dt = self.dtype(data);
        Ok(self.push1(
            "gather",
            Op::Gather { axis: a },
            vec![data, indices],
            dt,
            shape,
        ))
    }

    /// ScatterElements with reduction add: `out = data; out[idx[i..]] along axis += updates[i..]`.
    /// `indices` and `updates` have the same shape. Deterministic and exact with any number of
    /// threads (unlike ScatterND with reduction add, which loses updates with 2+ intra-op threads).
    pub fn scatter_add(
        &mut self,
        data: ValueId,
        indices: ValueId,
        updates: ValueId,
        axis: i64,
    ) -> Result<ValueId> {
        if self.shape(indices) != self.shape(updates) {
            return Err(self.shape_err(
                "ScatterAdd",
                format!(
                    "indices {:?} and updates {:?} differ",
                    self.shape(indices),
                    self.shape(updates)
                ),
            ));
        }
        let s = self.shape(data).to_vec();
        let a = self.axis("ScatterAdd", axis, s.len())?;
        let dt = self.dtype(data);
        Ok(self.push1(
            "scatter_add",
            Op::ScatterAdd { axis: a },
            vec![data, indices, updates],
            dt,
            s,
        ))
    }
}

pub(crate) fn vjp(
    g: &mut Graph,
    node: &Node,
    gout: &[Option<ValueId>],
    needs: &[bool],
) -> Result<Vec<Option<ValueId>>> {
    let x = node.inputs[0];
    let xs = g.shape(x).to_vec();
    let scope = format!("grad.{}", node.name);
    if let Op::Split { axis, .. } = &node.op {
        // The gradient of a split is the concatenation of its outputs' gradients (zeros where none).
        if gout.iter().all(|d| d.is_none()) {
            return Ok(vec![None]);
        }
        let axis = *axis;
        return g.scoped(&scope, |g| {
            let mut parts = Vec::new();
            for (o, d) in node.outputs.iter().zip(gout) {
                parts.push(match d {
                    Some(d) => *d,
                    None => {
                        let (dt, s) = (g.dtype(*o), g.shape(*o).to_vec());
                        g.zeros(dt, &s)?
                    }
                });
            }
            Ok(vec![Some(g.concat(&parts, axis as i64)?)])
        });
    }
    let Some(dy) = gout[0] else {
        return Ok(vec![None; node.inputs.len()]);
    };
    g.scoped(&scope, |g| -> Result<Vec<Option<ValueId>>> {
        Ok(match &node.op {
            Op::Reshape { .. } => vec![Some(g.reshape(dy, &xs)?)],
            Op::Transpose { perm } => {
                let mut inv = vec![0; perm.len()];
                for (i, &p) in perm.iter().enumerate() {
                    inv[p] = i;
                }
                vec![Some(g.transpose(dy, &inv)?)]
            }
            Op::Expand { .. } => vec![Some(g.reduce_to_shape(dy, &xs)?)],
            Op::Concat { axis } => {
                let sizes: Vec<usize> = node.inputs.iter().map(|&i| g.shape(i)[*axis]).collect();
                let parts = g.split(dy, *axis as i64, &sizes)?;
                parts
                    .into_iter()
                    .zip(needs)
                    .map(|(p, &n)| n.then_some(p))
                    .collect()
            }
            Op::Slice { axis, start, end } => {
                let after = xs[*axis] - end;
                vec![Some(g.pad(dy, *axis as i64, *start, after)?)]
            }
            Op::Pad { axis, before, .. } => {
                let len = xs[*axis];
                vec![Some(g.slice(dy, *axis as i64, *before, before + len)?)]
            }
            Op::Gather { axis: 0 } => {
                // d table[idx] = scatter-add of the output gradient rows into zeros shaped like table.
                let idx = node.inputs[1];
                let n = g.numel(idx);
                let rest: Vec<usize> = xs[1..].to_vec();
                let mut flat = vec![n];
                flat.extend_from_slice(&rest);
                let upd = g.reshape(dy, &flat)?;
                let mut ishape = vec![n];
                ishape.extend(std::iter::repeat_n(1, rest.len()));
                let i = g.reshape(idx, &ishape)?;
                let i = g.expand(i, &flat)?;
                let dt = g.dtype(x);
                let z = g.zeros(dt, &xs)?;
                vec![Some(g.scatter_add(z, i, upd, 0)?), None]
            }
            Op::Gather { axis } => {
                return Err(GraphError::NoGradient {
                    op: "Gather",
                    node: node.name.clone(),
                    reason: format!(" along axis {axis} (only axis 0)"),
                });
            }
            Op::ScatterAdd { .. } => {
                return Err(GraphError::NoGradient {
                    op: "ScatterAdd",
                    node: node.name.clone(),
                    reason: " (used only inside backward graphs)".into(),
                });
            }
            other => unreachable!("shape::vjp called for {}", other.kind()),
        })
    })
}

pub(crate) fn emit(e: &mut Emitter, node: &Node) {
    let mut ins = e.input_names(node);
    let outs = e.output_names(node);
    let n = &node.name;
    match &node.op {
        Op::Reshape { shape } | Op::Expand { shape } => {
            let s: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
            ins.push(e.const_i64(n, &s));
            e.node(node.op.kind(), n, ins, outs, vec![]);
        }
        Op::Transpose { perm } => {
            let p: Vec<i64> = perm.iter().map(|&d| d as i64).collect();
            e.node("Transpose", n, ins, outs, vec![attr_ints("perm", &p)]);
        }
        Op::Concat { axis } => e.node("Concat", n, ins, outs, vec![attr_int("axis", *axis as i64)]),
        Op::Split { axis, sizes } => {
            let s: Vec<i64> = sizes.iter().map(|&d| d as i64).collect();
            ins.push(e.const_i64(n, &s));
            e.node("Split", n, ins, outs, vec![attr_int("axis", *axis as i64)]);
        }
        Op::Slice { axis, start, end } => {
            ins.push(e.const_i64(n, &[*start as i64]));
            ins.push(e.const_i64(n, &[*end as i64]));
            ins.push(e.const_i64(n, &[*axis as i64]));
            e.node("Slice", n, ins, outs, vec![]);
        }
        Op::Pad {
            axis,
            before,
            after,
        } => {
            ins.push(e.const_i64(n, &[*before as i64, *after as i64]));
            ins.push(String::new()); // constant_value: default zero
            ins.push(e.const_i64(n, &[*axis as i64]));
            e.node("Pad", n, ins, outs, vec![]);
        }
        Op::Gather { axis } => e.node("Gather", n, ins, outs, vec![attr_int("axis", *axis as i64)]),
        Op::ScatterAdd { axis } => e.node(
            "ScatterElements",
            n,
            ins,
            outs,
            vec![
                attr_int("axis", *axis as i64),
                attr_string("reduction", "add"),
            ],
        ),
        other => unreachable!("shape::emit called for {}", other.kind()),
    }
}
