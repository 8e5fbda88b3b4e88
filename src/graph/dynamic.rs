//! Symbolic batch and sequence axes for export.
//!
//! Our IR has static shapes, which is what training wants; a model exported for other runtimes
//! should accept any batch size and length. Rather than carrying symbolic shapes through every
//! op's shape rule, the exporter is given the same graph built twice at two (batch, seq) sizes.
//! Comparing the two builds value by value identifies every dimension as `c`, `c·B`, `c·T` or
//! `c·B·T` (the sizes are chosen so that the four ratios differ), and the few ops whose
//! attributes hold shapes (Reshape, Expand, the end of a Slice, constants) are emitted with shape
//! tensors computed at run time from `Shape(<anchor input>)`. Every other op is shape-agnostic in
//! ONNX. A dimension that is none of these forms, or a constant whose values depend on the sizes
//! (sinusoidal positions, a causal mask), is an error: the caller then fixes that axis instead.

use super::error::{GraphError, Result};
use super::ir::{Graph, ValueId};
use super::op::Op;
use super::ops::{ShapeOp, SourceOp};

/// One dimension as a monomial of the symbolic axes: `coef · B^batch · T^seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymDim {
    pub coef: usize,
    pub batch: bool,
    pub seq: bool,
}

impl SymDim {
    pub fn is_static(&self) -> bool {
        !self.batch && !self.seq
    }

    /// The ONNX `dim_param` (or value) of a graph input or output.
    pub fn onnx_dim(&self) -> std::result::Result<i64, String> {
        let sym = match (self.batch, self.seq) {
            (false, false) => return Ok(self.coef as i64),
            (true, false) => "batch",
            (false, true) => "sequence",
            (true, true) => "batch*sequence",
        };
        if self.coef == 1 {
            Err(sym.to_string())
        } else {
            Err(format!("{}*{sym}", self.coef))
        }
    }
}

/// The symbolic dimensions of every value of a graph, and the `[B, T]` input they are read from.
#[derive(Debug, Clone)]
pub struct DynamicShapes {
    /// Per value of the graph (indexed like `Graph::values`), per axis.
    pub dims: Vec<Vec<SymDim>>,
    /// A graph input of shape `[B, T]` (e.g. `input_ids`) whose run-time shape gives B and T.
    pub anchor: ValueId,
}

impl DynamicShapes {
    pub fn of(&self, v: ValueId) -> &[SymDim] {
        &self.dims[v.0]
    }
}

fn mismatch(node: &str, message: String) -> GraphError {
    GraphError::Shape {
        op: "export",
        node: node.to_string(),
        message,
    }
}

/// Identifies `d` (size `da` in the first build, `db` in the second) as a monomial of B and T.
fn identify(da: usize, db: usize, batch: (usize, usize), seq: (usize, usize)) -> Option<SymDim> {
    let seq_varies = seq.0 != seq.1;
    let batch_varies = batch.0 != batch.1;
    for (b, t) in [(false, false), (true, false), (false, true), (true, true)] {
        if (b && !batch_varies) || (t && !seq_varies) {
            continue;
        }
        let (ka, kb) = (
            if b { batch.0 } else { 1 } * if t { seq.0 } else { 1 },
            if b { batch.1 } else { 1 } * if t { seq.1 } else { 1 },
        );
        if da.is_multiple_of(ka) && db.is_multiple_of(kb) && da / ka == db / kb {
            return Some(SymDim {
                coef: da / ka,
                batch: b,
                seq: t,
            });
        }
    }
    None
}

/// Compares two builds of one graph (`a` at sizes `batch.0 × seq.0`, `b` at `batch.1 × seq.1`;
/// equal sizes keep that axis static) and returns the symbolic dimensions of `a`'s values.
/// `anchor` names a `[B, T]` input.
pub fn infer(
    a: &Graph,
    b: &Graph,
    batch: (usize, usize),
    seq: (usize, usize),
    anchor: &str,
) -> Result<DynamicShapes> {
    if a.nodes.len() != b.nodes.len() || a.values.len() != b.values.len() {
        return Err(mismatch(
            &a.name,
            format!(
                "the two builds differ in structure ({} and {} nodes)",
                a.nodes.len(),
                b.nodes.len()
            ),
        ));
    }
    let mut dims = Vec::with_capacity(a.values.len());
    for (i, (va, vb)) in a.values.iter().zip(&b.values).enumerate() {
        let node = &a.nodes[va.node].name;
        if va.shape.len() != vb.shape.len() {
            return Err(mismatch(
                node,
                format!("value {i}: ranks differ between the builds"),
            ));
        }
        let d = va
            .shape
            .iter()
            .zip(&vb.shape)
            .map(|(&x, &y)| {
                identify(x, y, batch, seq).ok_or_else(|| {
                    mismatch(
                        node,
                        format!("dimension {x} / {y} is not c, c·batch, c·seq or c·batch·seq"),
                    )
                })
            })
            .collect::<Result<Vec<_>>>()?;
        dims.push(d);
    }
    for (na, nb) in a.nodes.iter().zip(&b.nodes) {
        if na.name != nb.name || na.op.kind() != nb.op.kind() {
            return Err(mismatch(
                &na.name,
                format!("the second build has '{}' here", nb.name),
            ));
        }
        let same_params = match (&na.op, &nb.op) {
            // Shape-bearing ops are re-derived from the symbolic dimensions.
            (Op::Shape(ShapeOp::Reshape { .. } | ShapeOp::Expand { .. }), _)
            | (Op::Source(SourceOp::Input { .. }), _) => true,
            (
                Op::Shape(ShapeOp::Slice { axis, start, .. }),
                Op::Shape(ShapeOp::Slice {
                    axis: axis2,
                    start: start2,
                    ..
                }),
            ) => axis == axis2 && start == start2,
            (Op::Source(SourceOp::Constant { value }), _) => {
                let d = &dims[na.outputs[0].0];
                d.iter().all(SymDim::is_static) || all_equal(value)
            }
            (Op::Source(SourceOp::Initializer { .. }), _) => {
                dims[na.outputs[0].0].iter().all(SymDim::is_static)
            }
            (x, y) => format!("{x:?}") == format!("{y:?}"),
        };
        if !same_params {
            return Err(mismatch(
                &na.name,
                format!(
                    "{} depends on the batch or sequence size in a way export cannot express",
                    na.op.kind()
                ),
            ));
        }
    }
    let anchor = a
        .inputs
        .iter()
        .copied()
        .find(|&v| a.producer(v).name == anchor)
        .ok_or_else(|| mismatch(&a.name, format!("no input '{anchor}'")))?;
    let ad = &dims[anchor.0];
    let ok = ad.len() == 2 && ad[0].coef == 1 && !ad[0].seq && ad[1].coef == 1 && !ad[1].batch;
    if !ok {
        return Err(mismatch(
            &a.name,
            format!(
                "input '{anchor_name}' must be [batch, sequence]",
                anchor_name = a.producer(anchor).name
            ),
        ));
    }
    Ok(DynamicShapes { dims, anchor })
}

fn all_equal(t: &super::Tensor) -> bool {
    let v = t.to_f64_vec();
    v.windows(2)
        .all(|w| w[0] == w[1] || (w[0].is_nan() && w[1].is_nan()))
}
