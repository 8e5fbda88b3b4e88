//! Elementwise ops with numpy broadcasting: arithmetic, unary math, activations, comparisons,
//! selection, casts and training-mode dropout. Each op's shape rule (builder), ONNX emission and
//! vector-Jacobian rule live here side by side.

use super::erf::emit_erf_series;
use super::family::op_family;
use crate::graph::error::{GraphError, Result};
use crate::graph::export::{Emitter, attr_int, attr_string};
use crate::graph::ir::{Graph, Node, ValueId};
use crate::graph::{DType, Tensor};
use std::f64::consts::PI;

op_family! {
    /// Elementwise ops (binary ones broadcast).
    pub enum ElementwiseOp / ElementwiseKind {
        Identity,
        Add,
        Sub,
        Mul,
        Div,
        Neg,
        Exp,
        Log,
        Sqrt,
        Tanh,
        Relu,
        Erf,
        Gelu,
        Where,
        Equal,
        Greater,
        Cast { to: DType },
        Dropout { ratio: f64, seed: i64 },
    }
}

impl ElementwiseKind {
    pub fn differentiable(self) -> bool {
        match self {
            ElementwiseKind::Identity
            | ElementwiseKind::Add
            | ElementwiseKind::Sub
            | ElementwiseKind::Mul
            | ElementwiseKind::Div
            | ElementwiseKind::Neg
            | ElementwiseKind::Exp
            | ElementwiseKind::Log
            | ElementwiseKind::Sqrt
            | ElementwiseKind::Tanh
            | ElementwiseKind::Relu
            | ElementwiseKind::Erf
            | ElementwiseKind::Gelu
            | ElementwiseKind::Where
            | ElementwiseKind::Cast
            | ElementwiseKind::Dropout => true,
            // Boolean outputs.
            ElementwiseKind::Equal | ElementwiseKind::Greater => false,
        }
    }
}

/// Numpy broadcasting of two shapes, or `None` when they do not broadcast.
pub fn broadcast_shapes(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    let rank = a.len().max(b.len());
    let mut out = vec![0; rank];
    for i in 0..rank {
        let da = if i + a.len() >= rank {
            a[i + a.len() - rank]
        } else {
            1
        };
        let db = if i + b.len() >= rank {
            b[i + b.len() - rank]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => return None,
        };
    }
    Some(out)
}

impl Graph {
    fn binary(&mut self, op: ElementwiseOp, a: ValueId, b: ValueId) -> Result<ValueId> {
        let kind = op.kind().name();
        let (da, db) = (self.dtype(a), self.dtype(b));
        if da != db {
            return Err(GraphError::DType {
                op: kind,
                node: self.here(kind),
                expected: da.to_string(),
                found: db,
            });
        }
        let shape = broadcast_shapes(self.shape(a), self.shape(b)).ok_or_else(|| {
            GraphError::Broadcast {
                op: kind,
                node: self.here(kind),
                lhs: self.shape(a).to_vec(),
                rhs: self.shape(b).to_vec(),
            }
        })?;
        let out_dtype = if matches!(op, ElementwiseOp::Equal | ElementwiseOp::Greater) {
            DType::Bool
        } else {
            da
        };
        let base = kind.to_ascii_lowercase();
        Ok(self.push1(&base, op, vec![a, b], out_dtype, shape))
    }

    fn unary(&mut self, op: ElementwiseOp, x: ValueId, float_only: bool) -> Result<ValueId> {
        let kind = op.kind().name();
        let dt = self.dtype(x);
        if float_only && !dt.is_float() {
            return Err(GraphError::DType {
                op: kind,
                node: self.here(kind),
                expected: "a float type".into(),
                found: dt,
            });
        }
        let shape = self.shape(x).to_vec();
        let base = kind.to_ascii_lowercase();
        Ok(self.push1(&base, op, vec![x], dt, shape))
    }

    /// `a + b`, broadcasting. Same dtype.
    pub fn add(&mut self, a: ValueId, b: ValueId) -> Result<ValueId> {
        self.binary(ElementwiseOp::Add, a, b)
    }
    /// `a - b`, broadcasting.
    pub fn sub(&mut self, a: ValueId, b: ValueId) -> Result<ValueId> {
        self.binary(ElementwiseOp::Sub, a, b)
    }
    /// `a * b`, broadcasting.
    pub fn mul(&mut self, a: ValueId, b: ValueId) -> Result<ValueId> {
        self.binary(ElementwiseOp::Mul, a, b)
    }
    /// `a / b`, broadcasting.
    pub fn div(&mut self, a: ValueId, b: ValueId) -> Result<ValueId> {
        self.binary(ElementwiseOp::Div, a, b)
    }
    /// `a == b` elementwise, broadcasting; bool output, no gradient.
    pub fn equal(&mut self, a: ValueId, b: ValueId) -> Result<ValueId> {
        self.binary(ElementwiseOp::Equal, a, b)
    }
    /// `a > b` elementwise, broadcasting; bool output, no gradient.
    pub fn greater(&mut self, a: ValueId, b: ValueId) -> Result<ValueId> {
        self.binary(ElementwiseOp::Greater, a, b)
    }
    /// `x * c` for a scalar constant `c` of x's dtype.
    pub fn mul_scalar(&mut self, x: ValueId, c: f64) -> Result<ValueId> {
        let s = self.scalar(self.dtype(x), c);
        self.mul(x, s)
    }
    /// `x + c` for a scalar constant `c` of x's dtype.
    pub fn add_scalar(&mut self, x: ValueId, c: f64) -> Result<ValueId> {
        let s = self.scalar(self.dtype(x), c);
        self.add(x, s)
    }
    pub fn neg(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(ElementwiseOp::Neg, x, false)
    }
    pub fn exp(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(ElementwiseOp::Exp, x, true)
    }
    /// Natural logarithm.
    pub fn log(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(ElementwiseOp::Log, x, true)
    }
    pub fn sqrt(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(ElementwiseOp::Sqrt, x, true)
    }
    pub fn tanh(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(ElementwiseOp::Tanh, x, true)
    }
    pub fn relu(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(ElementwiseOp::Relu, x, true)
    }
    /// The error function. f64 graphs lower it to a series (ONNX Runtime has no f64 Erf kernel);
    /// f64 graphs exist for gradient checks.
    pub fn erf(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(ElementwiseOp::Erf, x, true)
    }
    /// Exact GELU, `x Φ(x)` (ONNX Gelu, opset 20, approximate = "none").
    pub fn gelu(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(ElementwiseOp::Gelu, x, true)
    }
    /// Identity (used to give a value a name of its own).
    pub fn identity(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(ElementwiseOp::Identity, x, false)
    }
    /// `cond ? a : b`, broadcasting all three; `cond` is bool.
    pub fn where_(&mut self, cond: ValueId, a: ValueId, b: ValueId) -> Result<ValueId> {
        let op = "Where";
        if self.dtype(cond) != DType::Bool {
            return Err(GraphError::DType {
                op,
                node: self.here(op),
                expected: "bool".into(),
                found: self.dtype(cond),
            });
        }
        if self.dtype(a) != self.dtype(b) {
            return Err(GraphError::DType {
                op,
                node: self.here(op),
                expected: self.dtype(a).to_string(),
                found: self.dtype(b),
            });
        }
        let ab = broadcast_shapes(self.shape(a), self.shape(b)).ok_or_else(|| {
            GraphError::Broadcast {
                op,
                node: self.here(op),
                lhs: self.shape(a).to_vec(),
                rhs: self.shape(b).to_vec(),
            }
        })?;
        let shape =
            broadcast_shapes(self.shape(cond), &ab).ok_or_else(|| GraphError::Broadcast {
                op,
                node: self.here(op),
                lhs: self.shape(cond).to_vec(),
                rhs: ab.clone(),
            })?;
        let dt = self.dtype(a);
        Ok(self.push1("where", ElementwiseOp::Where, vec![cond, a, b], dt, shape))
    }
    /// Converts to `to`. Float-to-float casts pass gradients; others have none.
    pub fn cast(&mut self, x: ValueId, to: DType) -> Result<ValueId> {
        let shape = self.shape(x).to_vec();
        Ok(self.push1("cast", ElementwiseOp::Cast { to }, vec![x], to, shape))
    }
    /// Training-mode dropout: zeroes each element with probability `ratio` and scales the rest by
    /// `1 / (1 - ratio)`. Returns (output, keep mask). `seed` fixes the mask sequence of a session.
    pub fn dropout(&mut self, x: ValueId, ratio: f64, seed: i64) -> Result<(ValueId, ValueId)> {
        let op = "Dropout";
        if !(0.0..1.0).contains(&ratio) {
            return Err(GraphError::Shape {
                op,
                node: self.here(op),
                message: format!("ratio {ratio} not in [0, 1)"),
            });
        }
        let dt = self.dtype(x);
        let shape = self.shape(x).to_vec();
        let outs = self.push(
            "dropout",
            ElementwiseOp::Dropout { ratio, seed },
            vec![x],
            vec![(dt, shape.clone()), (DType::Bool, shape)],
        );
        Ok((outs[0], outs[1]))
    }

    /// Sums `grad` over broadcast dimensions so that it takes `shape` (the VJP of broadcasting).
    pub fn reduce_to_shape(&mut self, grad: ValueId, shape: &[usize]) -> Result<ValueId> {
        let gs = self.shape(grad).to_vec();
        if gs == shape {
            return Ok(grad);
        }
        let lead = gs.len() - shape.len();
        let axes: Vec<usize> = (0..gs.len())
            .filter(|&i| i < lead || (shape[i - lead] == 1 && gs[i] != 1))
            .collect();
        let axes: Vec<i64> = axes.iter().map(|&a| a as i64).collect();
        let r = if axes.is_empty() {
            grad
        } else {
            self.reduce_sum(grad, &axes, true)?
        };
        if self.shape(r) == shape {
            Ok(r)
        } else {
            self.reshape(r, shape)
        }
    }

    /// A tensor of zeros shaped like `shape`, as a broadcast scalar (small in the model file).
    pub fn zeros(&mut self, dtype: DType, shape: &[usize]) -> Result<ValueId> {
        let z = self.scalar(dtype, 0.0);
        self.expand(z, shape)
    }
}

impl ElementwiseOp {
    /// Vector-Jacobian products (see `Op::vjp`).
    pub(crate) fn vjp(
        &self,
        g: &mut Graph,
        node: &Node,
        gout: &[Option<ValueId>],
        needs: &[bool],
    ) -> Result<Vec<Option<ValueId>>> {
        let x = node.inputs.first().copied();
        let y = node.outputs[0];
        let Some(dy) = gout[0] else {
            return Ok(vec![None; node.inputs.len()]);
        };
        let scope = format!("grad.{}", node.name);
        g.scoped(&scope, |g| -> Result<Vec<Option<ValueId>>> {
            let dt = g.dtype(y);
            Ok(match self {
                ElementwiseOp::Identity => vec![Some(dy)],
                ElementwiseOp::Add => binary_vjp(g, node, needs, |_| Ok(dy), |_| Ok(dy))?,
                ElementwiseOp::Sub => binary_vjp(g, node, needs, |_| Ok(dy), |g| g.neg(dy))?,
                ElementwiseOp::Mul => {
                    let (a, b) = (node.inputs[0], node.inputs[1]);
                    binary_vjp(g, node, needs, |g| g.mul(dy, b), |g| g.mul(dy, a))?
                }
                ElementwiseOp::Div => {
                    let b = node.inputs[1];
                    binary_vjp(
                        g,
                        node,
                        needs,
                        |g| g.div(dy, b), // d(a/b)/da = 1/b
                        |g| {
                            // d(a/b)/db = -a/b² = -y/b
                            let t = g.mul(dy, y)?;
                            let t = g.div(t, b)?;
                            g.neg(t)
                        },
                    )?
                }
                ElementwiseOp::Neg => vec![Some(g.neg(dy)?)],
                ElementwiseOp::Exp => vec![Some(g.mul(dy, y)?)], // d e^x = e^x
                ElementwiseOp::Log => vec![Some(g.div(dy, x.unwrap())?)],
                ElementwiseOp::Sqrt => {
                    // d √x = 1 / (2 √x)
                    let two_y = g.mul_scalar(y, 2.0)?;
                    vec![Some(g.div(dy, two_y)?)]
                }
                ElementwiseOp::Tanh => {
                    // d tanh = 1 - tanh²
                    let y2 = g.mul(y, y)?;
                    let one = g.scalar(dt, 1.0);
                    let d = g.sub(one, y2)?;
                    vec![Some(g.mul(dy, d)?)]
                }
                ElementwiseOp::Relu => {
                    let zero = g.scalar(dt, 0.0);
                    let pos = g.greater(x.unwrap(), zero)?;
                    vec![Some(g.where_(pos, dy, zero)?)]
                }
                ElementwiseOp::Erf => {
                    // d erf(x) = 2/√π · exp(-x²)
                    let xv = x.unwrap();
                    let x2 = g.mul(xv, xv)?;
                    let nx2 = g.neg(x2)?;
                    let e = g.exp(nx2)?;
                    let d = g.mul_scalar(e, 2.0 / PI.sqrt())?;
                    vec![Some(g.mul(dy, d)?)]
                }
                ElementwiseOp::Gelu => {
                    // d [x Φ(x)] = Φ(x) + x φ(x), Φ(x) = (1 + erf(x/√2))/2, φ(x) = exp(-x²/2)/√(2π)
                    let xv = x.unwrap();
                    let xs = g.mul_scalar(xv, std::f64::consts::FRAC_1_SQRT_2)?;
                    let e = g.erf(xs)?;
                    let e1 = g.add_scalar(e, 1.0)?;
                    let cdf = g.mul_scalar(e1, 0.5)?;
                    let x2 = g.mul(xv, xv)?;
                    let h = g.mul_scalar(x2, -0.5)?;
                    let ex = g.exp(h)?;
                    let pdf = g.mul_scalar(ex, 1.0 / (2.0 * PI).sqrt())?;
                    let xpdf = g.mul(xv, pdf)?;
                    let d = g.add(cdf, xpdf)?;
                    vec![Some(g.mul(dy, d)?)]
                }
                ElementwiseOp::Where => {
                    let (c, a, b) = (node.inputs[0], node.inputs[1], node.inputs[2]);
                    let zero = g.scalar(dt, 0.0);
                    let da = if needs[1] {
                        let t = g.where_(c, dy, zero)?;
                        let s = g.shape(a).to_vec();
                        Some(g.reduce_to_shape(t, &s)?)
                    } else {
                        None
                    };
                    let db = if needs[2] {
                        let t = g.where_(c, zero, dy)?;
                        let s = g.shape(b).to_vec();
                        Some(g.reduce_to_shape(t, &s)?)
                    } else {
                        None
                    };
                    vec![None, da, db]
                }
                ElementwiseOp::Cast { .. } => {
                    let from = g.dtype(x.unwrap());
                    if from.is_float() && dt.is_float() {
                        vec![Some(g.cast(dy, from)?)]
                    } else {
                        return Err(GraphError::NoGradient {
                            op: "Cast",
                            node: node.name.clone(),
                            reason: format!(" from {from} to {dt}"),
                        });
                    }
                }
                ElementwiseOp::Dropout { ratio, .. } => {
                    let mask = node.outputs[1];
                    let m = g.cast(mask, dt)?;
                    let m = g.mul_scalar(m, 1.0 / (1.0 - ratio))?;
                    vec![Some(g.mul(dy, m)?)]
                }
                ElementwiseOp::Equal | ElementwiseOp::Greater => {
                    return Err(GraphError::NoGradient {
                        op: self.kind().name(),
                        node: node.name.clone(),
                        reason: " (boolean output)".into(),
                    });
                }
            })
        })
    }

    /// Emits the ONNX nodes. f64 Erf and Gelu are lowered (ONNX Runtime has no f64 kernels).
    pub(crate) fn emit(&self, e: &mut Emitter, node: &Node) {
        let ins = e.input_names(node);
        let outs = e.output_names(node);
        let dt = e.graph.dtype(node.outputs[0]);
        match self {
            ElementwiseOp::Erf if dt == DType::F64 => {
                let y = emit_erf_series(e, &node.name, &ins[0]);
                e.node("Identity", &node.name, vec![y], outs, vec![]);
            }
            ElementwiseOp::Gelu if dt == DType::F64 => {
                // x · (1 + erf(x/√2)) / 2
                let n = &node.name;
                let c = e.const_scalar(n, DType::F64, std::f64::consts::FRAC_1_SQRT_2);
                let xs = e.tmp(n, "xs");
                e.node(
                    "Mul",
                    &format!("{n}/xs"),
                    vec![ins[0].clone(), c],
                    vec![xs.clone()],
                    vec![],
                );
                let er = emit_erf_series(e, n, &xs);
                let one = e.const_scalar(n, DType::F64, 1.0);
                let t = e.tmp(n, "onep");
                e.node(
                    "Add",
                    &format!("{n}/onep"),
                    vec![er, one],
                    vec![t.clone()],
                    vec![],
                );
                let half = e.const_scalar(n, DType::F64, 0.5);
                let t2 = e.tmp(n, "half");
                e.node(
                    "Mul",
                    &format!("{n}/half"),
                    vec![t, half],
                    vec![t2.clone()],
                    vec![],
                );
                e.node("Mul", n, vec![ins[0].clone(), t2], outs, vec![]);
            }
            ElementwiseOp::Gelu => e.node(
                "Gelu",
                &node.name,
                ins,
                outs,
                vec![attr_string("approximate", "none")],
            ),
            ElementwiseOp::Cast { to } => e.node(
                "Cast",
                &node.name,
                ins,
                outs,
                vec![attr_int("to", to.onnx_code() as i64)],
            ),
            ElementwiseOp::Dropout { ratio, seed } => {
                let r = e.const_scalar(&node.name, dt, *ratio);
                let t = e.const_tensor(&node.name, Tensor::bool(vec![], vec![true]));
                let inputs = vec![ins[0].clone(), r, t];
                e.node(
                    "Dropout",
                    &node.name,
                    inputs,
                    outs,
                    vec![attr_int("seed", *seed)],
                );
            }
            // ONNX ops of the same name, without attributes.
            ElementwiseOp::Identity
            | ElementwiseOp::Add
            | ElementwiseOp::Sub
            | ElementwiseOp::Mul
            | ElementwiseOp::Div
            | ElementwiseOp::Neg
            | ElementwiseOp::Exp
            | ElementwiseOp::Log
            | ElementwiseOp::Sqrt
            | ElementwiseOp::Tanh
            | ElementwiseOp::Relu
            | ElementwiseOp::Erf
            | ElementwiseOp::Where
            | ElementwiseOp::Equal
            | ElementwiseOp::Greater => e.node(self.kind().name(), &node.name, ins, outs, vec![]),
        }
    }
}

/// The gradients of a broadcasting binary op `y = f(a, b)`: `da_full` and `db_full` build the
/// unreduced gradients, which are then summed over the broadcast dimensions. Each is built only
/// when its input needs it, `a`'s first.
fn binary_vjp(
    g: &mut Graph,
    node: &Node,
    needs: &[bool],
    da_full: impl FnOnce(&mut Graph) -> Result<ValueId>,
    db_full: impl FnOnce(&mut Graph) -> Result<ValueId>,
) -> Result<Vec<Option<ValueId>>> {
    let (a, b) = (node.inputs[0], node.inputs[1]);
    let (sa, sb) = (g.shape(a).to_vec(), g.shape(b).to_vec());
    let da = if !needs[0] {
        None
    } else {
        let full = da_full(g)?;
        Some(g.reduce_to_shape(full, &sa)?)
    };
    let db = if !needs[1] {
        None
    } else {
        let full = db_full(g)?;
        Some(g.reduce_to_shape(full, &sb)?)
    };
    Ok(vec![da, db])
}
