//! Ops that move data without arithmetic: Reshape, Transpose, Expand, Concat, Split, Slice, Pad,
//! Gather and ScatterAdd. Builder (shape rule), ONNX emission and vector-Jacobian rule side by side.

use super::family::op_family;
use crate::graph::DType;
use crate::graph::error::{GraphError, Result};
use crate::graph::export::{Emitter, attr_int, attr_ints, attr_string};
use crate::graph::ir::{Graph, Node, ValueId};

op_family! {
    /// Ops that move data without arithmetic.
    pub enum ShapeOp / ShapeKind {
        Reshape { shape: Vec<usize> },
        Transpose { perm: Vec<usize> },
        Expand { shape: Vec<usize> },
        Concat { axis: usize },
        Split { axis: usize, sizes: Vec<usize> },
        Slice { axis: usize, start: usize, end: usize },
        Pad { axis: usize, before: usize, after: usize },
        Gather { axis: usize },
        ScatterAdd { axis: usize },
        Scatter { axis: usize },
    }
}

impl ShapeKind {
    pub fn differentiable(self) -> bool {
        match self {
            ShapeKind::Reshape
            | ShapeKind::Transpose
            | ShapeKind::Expand
            | ShapeKind::Concat
            | ShapeKind::Split
            | ShapeKind::Slice
            | ShapeKind::Pad
            | ShapeKind::Gather => true,
            // Used only inside backward graphs.
            ShapeKind::ScatterAdd | ShapeKind::Scatter => false,
        }
    }
}

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
            ShapeOp::Reshape {
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
            ShapeOp::Transpose {
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
            ShapeOp::Expand {
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
        Ok(self.push1(
            "concat",
            ShapeOp::Concat { axis: a },
            xs.to_vec(),
            dt,
            shape,
        ))
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
            ShapeOp::Split {
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
            ShapeOp::Slice {
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
            ShapeOp::Pad {
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
            ShapeOp::Gather { axis: a },
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
        self.scatter_elements(data, indices, updates, axis, true)
    }

    /// ScatterElements without reduction: `out = data; out[idx[i..]] along axis = updates[i..]`
    /// (indices must not repeat). Used inside backward graphs only.
    pub fn scatter(
        &mut self,
        data: ValueId,
        indices: ValueId,
        updates: ValueId,
        axis: i64,
    ) -> Result<ValueId> {
        self.scatter_elements(data, indices, updates, axis, false)
    }

    fn scatter_elements(
        &mut self,
        data: ValueId,
        indices: ValueId,
        updates: ValueId,
        axis: i64,
        add: bool,
    ) -> Result<ValueId> {
        let name = if add { "ScatterAdd" } else { "Scatter" };
        if self.shape(indices) != self.shape(updates) {
            return Err(self.shape_err(
                name,
                format!(
                    "indices {:?} and updates {:?} differ",
                    self.shape(indices),
                    self.shape(updates)
                ),
            ));
        }
        let s = self.shape(data).to_vec();
        let a = self.axis(name, axis, s.len())?;
        let dt = self.dtype(data);
        let (base, op) = if add {
            ("scatter_add", ShapeOp::ScatterAdd { axis: a })
        } else {
            ("scatter", ShapeOp::Scatter { axis: a })
        };
        Ok(self.push1(base, op, vec![data, indices, updates], dt, s))
    }
}

impl ShapeOp {
    /// Vector-Jacobian products (see `Op::vjp`).
    pub(crate) fn vjp(
        &self,
        g: &mut Graph,
        node: &Node,
        gout: &[Option<ValueId>],
        needs: &[bool],
    ) -> Result<Vec<Option<ValueId>>> {
        let x = node.inputs[0];
        let xs = g.shape(x).to_vec();
        // Every op here has one output but Split, whose rule reads `gout` itself.
        let Some(dy) = gout.iter().find_map(|d| *d) else {
            return Ok(vec![None; node.inputs.len()]);
        };
        let scope = format!("grad.{}", node.name);
        g.scoped(&scope, |g| -> Result<Vec<Option<ValueId>>> {
            Ok(match self {
                ShapeOp::Split { axis, .. } => {
                    // The concatenation of the outputs' gradients (zeros where none).
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
                    vec![Some(g.concat(&parts, *axis as i64)?)]
                }
                ShapeOp::Reshape { .. } => vec![Some(g.reshape(dy, &xs)?)],
                ShapeOp::Transpose { perm } => {
                    let mut inv = vec![0; perm.len()];
                    for (i, &p) in perm.iter().enumerate() {
                        inv[p] = i;
                    }
                    vec![Some(g.transpose(dy, &inv)?)]
                }
                ShapeOp::Expand { .. } => vec![Some(g.reduce_to_shape(dy, &xs)?)],
                ShapeOp::Concat { axis } => {
                    let sizes: Vec<usize> =
                        node.inputs.iter().map(|&i| g.shape(i)[*axis]).collect();
                    let parts = g.split(dy, *axis as i64, &sizes)?;
                    parts
                        .into_iter()
                        .zip(needs)
                        .map(|(p, &n)| n.then_some(p))
                        .collect()
                }
                ShapeOp::Slice { axis, start, end } => {
                    let after = xs[*axis] - end;
                    vec![Some(g.pad(dy, *axis as i64, *start, after)?)]
                }
                ShapeOp::Pad { axis, before, .. } => {
                    let len = xs[*axis];
                    vec![Some(g.slice(dy, *axis as i64, *before, before + len)?)]
                }
                ShapeOp::Gather { axis: 0 } => {
                    // d table[idx] = scatter-add of the output gradient rows into zeros shaped
                    // like table.
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
                ShapeOp::Gather { axis } => {
                    return Err(GraphError::NoGradient {
                        op: "Gather",
                        node: node.name.clone(),
                        reason: format!(" along axis {axis} (only axis 0)"),
                    });
                }
                ShapeOp::ScatterAdd { .. } | ShapeOp::Scatter { .. } => {
                    return Err(GraphError::NoGradient {
                        op: self.kind().name(),
                        node: node.name.clone(),
                        reason: " (used only inside backward graphs)".into(),
                    });
                }
            })
        })
    }

    /// Emits the ONNX node. Under symbolic axes, the shapes of Reshape and Expand and the end of
    /// a Slice are computed at run time (see `graph::dynamic`); every other op here is
    /// shape-agnostic in ONNX.
    pub(crate) fn emit(&self, e: &mut Emitter, node: &Node) {
        let mut ins = e.input_names(node);
        let outs = e.output_names(node);
        let n = &node.name;
        let dims = e.symbolic_dims(node.outputs[0]);
        match self {
            ShapeOp::Reshape { shape } | ShapeOp::Expand { shape } => {
                let shape = match &dims {
                    Some(dims) => e.shape_tensor(n, dims),
                    None => {
                        let s: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
                        e.const_i64(n, &s)
                    }
                };
                ins.push(shape);
                e.node(self.kind().name(), n, ins, outs, vec![]);
            }
            ShapeOp::Transpose { perm } => {
                let p: Vec<i64> = perm.iter().map(|&d| d as i64).collect();
                e.node("Transpose", n, ins, outs, vec![attr_ints("perm", &p)]);
            }
            ShapeOp::Concat { axis } => {
                e.node("Concat", n, ins, outs, vec![attr_int("axis", *axis as i64)])
            }
            ShapeOp::Split { axis, sizes } => {
                let s: Vec<i64> = sizes.iter().map(|&d| d as i64).collect();
                ins.push(e.const_i64(n, &s));
                e.node("Split", n, ins, outs, vec![attr_int("axis", *axis as i64)]);
            }
            ShapeOp::Slice { axis, start, end } => {
                match &dims {
                    Some(dims) => {
                        let len = e.shape_tensor(n, &dims[*axis..*axis + 1]);
                        let start_t = e.const_i64(n, &[*start as i64]);
                        let end = if *start == 0 {
                            len
                        } else {
                            let end = e.tmp(n, "end");
                            e.node(
                                "Add",
                                &end.clone(),
                                vec![len, start_t.clone()],
                                vec![end.clone()],
                                vec![],
                            );
                            end
                        };
                        ins.push(start_t);
                        ins.push(end);
                    }
                    None => {
                        ins.push(e.const_i64(n, &[*start as i64]));
                        ins.push(e.const_i64(n, &[*end as i64]));
                    }
                }
                ins.push(e.const_i64(n, &[*axis as i64]));
                e.node("Slice", n, ins, outs, vec![]);
            }
            ShapeOp::Pad {
                axis,
                before,
                after,
            } => {
                ins.push(e.const_i64(n, &[*before as i64, *after as i64]));
                ins.push(String::new()); // constant_value: default zero
                ins.push(e.const_i64(n, &[*axis as i64]));
                e.node("Pad", n, ins, outs, vec![]);
            }
            ShapeOp::Gather { axis } => {
                e.node("Gather", n, ins, outs, vec![attr_int("axis", *axis as i64)])
            }
            ShapeOp::ScatterAdd { axis } => e.node(
                "ScatterElements",
                n,
                ins,
                outs,
                vec![
                    attr_int("axis", *axis as i64),
                    attr_string("reduction", "add"),
                ],
            ),
            ShapeOp::Scatter { axis } => e.node(
                "ScatterElements",
                n,
                ins,
                outs,
                vec![attr_int("axis", *axis as i64)],
            ),
        }
    }
}
