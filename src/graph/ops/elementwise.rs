//! Elementwise ops with numpy broadcasting: arithmetic, unary math, activations, comparisons,
//! selection, casts and training-mode dropout. Each op's shape rule (builder), ONNX emission and
//! vector-Jacobian rule live here side by side.

use crate::graph::error::{GraphError, Result};
use crate::graph::export::{Emitter, attr_int, attr_string};
use crate::graph::ir::{Graph, Node, Op, ValueId};
use crate::graph::{DType, Tensor};
use std::f64::consts::PI;

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
    fn binary(&mut self, op: Op, a: ValueId, b: ValueId) -> Result<ValueId> {
        let kind = op.kind();
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
        let out_dtype = if matches!(op, Op::Equal | Op::Greater) {
            DType::Bool
        } else {
            da
        };
        let base = kind.to_ascii_lowercase();
        Ok(self.push1(&base, op, vec![a, b], out_dtype, shape))
    }

    fn unary(&mut self, op: Op, x: ValueId, float_only: bool) -> Result<ValueId> {
        let kind = op.kind();
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
        self.binary(Op::Add, a, b)
    }
    /// `a - b`, broadcasting.
    pub fn sub(&mut self, a: ValueId, b: ValueId) -> Result<ValueId> {
        self.binary(Op::Sub, a, b)
    }
    /// `a * b`, broadcasting.
    pub fn mul(&mut self, a: ValueId, b: ValueId) -> Result<ValueId> {
        self.binary(Op::Mul, a, b)
    }
    /// `a / b`, broadcasting.
    pub fn div(&mut self, a: ValueId, b: ValueId) -> Result<ValueId> {
        self.binary(Op::Div, a, b)
    }
    /// `a == b` elementwise, broadcasting; bool output, no gradient.
    pub fn equal(&mut self, a: ValueId, b: ValueId) -> Result<ValueId> {
        self.binary(Op::Equal, a, b)
    }
    /// `a > b` elementwise, broadcasting; bool output, no gradient.
    pub fn greater(&mut self, a: ValueId, b: ValueId) -> Result<ValueId> {
        self.binary(Op::Greater, a, b)
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
        self.unary(Op::Neg, x, false)
    }
    pub fn exp(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(Op::Exp, x, true)
    }
    /// Natural logarithm.
    pub fn log(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(Op::Log, x, true)
    }
    pub fn sqrt(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(Op::Sqrt, x, true)
    }
    pub fn tanh(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(Op::Tanh, x, true)
    }
    pub fn relu(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(Op::Relu, x, true)
    }
    /// The error function. f64 graphs lower it to a series (ONNX Runtime has no f64 Erf kernel);
    /// f64 graphs exist for gradient checks.
    pub fn erf(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(Op::Erf, x, true)
    }
    /// Exact GELU, `x Φ(x)` (ONNX Gelu, opset 20, approximate = "none").
    pub fn gelu(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(Op::Gelu, x, true)
    }
    /// Identity (used to give a value a name of its own).
    pub fn identity(&mut self, x: ValueId) -> Result<ValueId> {
        self.unary(Op::Identity, x, false)
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
        Ok(self.push1("where", Op::Where, vec![cond, a, b], dt, shape))
    }
    /// Converts to `to`. Float-to-float casts pass gradients; others have none.
    pub fn cast(&mut self, x: ValueId, to: DType) -> Result<ValueId> {
        let shape = self.shape(x).to_vec();
        Ok(self.push1("cast", Op::Cast { to }, vec![x], to, shape))
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
            Op::Dropout { ratio, seed },
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

/// Vector-Jacobian products. `gout` holds the gradient of each output (None: no gradient flows);
/// `needs[i]` tells whether input i wants a gradient. Returns one entry per input.
pub(crate) fn vjp(
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
        Ok(match &node.op {
            Op::Identity => vec![Some(dy)],
            Op::Add | Op::Sub | Op::Mul | Op::Div => {
                let (a, b) = (node.inputs[0], node.inputs[1]);
                let (sa, sb) = (g.shape(a).to_vec(), g.shape(b).to_vec());
                let da = if !needs[0] {
                    None
                } else {
                    let full = match node.op {
                        Op::Add | Op::Sub => dy,
                        Op::Mul => g.mul(dy, b)?,
                        _ => g.div(dy, b)?, // d(a/b)/da = 1/b
                    };
                    Some(g.reduce_to_shape(full, &sa)?)
                };
                let db = if !needs[1] {
                    None
                } else {
                    let full = match node.op {
                        Op::Add => dy,
                        Op::Sub => g.neg(dy)?,
                        Op::Mul => g.mul(dy, a)?,
                        _ => {
                            // d(a/b)/db = -a/b² = -y/b
                            let t = g.mul(dy, y)?;
                            let t = g.div(t, b)?;
                            g.neg(t)?
                        }
                    };
                    Some(g.reduce_to_shape(full, &sb)?)
                };
                vec![da, db]
            }
            Op::Neg => vec![Some(g.neg(dy)?)],
            Op::Exp => vec![Some(g.mul(dy, y)?)], // d e^x = e^x
            Op::Log => vec![Some(g.div(dy, x.unwrap())?)],
            Op::Sqrt => {
                // d √x = 1 / (2 √x)
                let two_y = g.mul_scalar(y, 2.0)?;
                vec![Some(g.div(dy, two_y)?)]
            }
            Op::Tanh => {
                // d tanh = 1 - tanh²
                let y2 = g.mul(y, y)?;
                let one = g.scalar(dt, 1.0);
                let d = g.sub(one, y2)?;
                vec![Some(g.mul(dy, d)?)]
            }
            Op::Relu => {
                let zero = g.scalar(dt, 0.0);
                let pos = g.greater(x.unwrap(), zero)?;
                vec![Some(g.where_(pos, dy, zero)?)]
            }
            Op::Erf => {
                // d erf(x) = 2/√π · exp(-x²)
                let xv = x.unwrap();
                let x2 = g.mul(xv, xv)?;
                let nx2 = g.neg(x2)?;
                let e = g.exp(nx2)?;
                let d = g.mul_scalar(e, 2.0 / PI.sqrt())?;
                vec![Some(g.mul(dy, d)?)]
            }
            Op::Gelu => {
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
            Op::Where => {
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
            Op::Cast { .. } => {
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
            Op::Dropout { ratio, .. } => {
                let mask = node.outputs[1];
                let m = g.cast(mask, dt)?;
                let m = g.mul_scalar(m, 1.0 / (1.0 - ratio))?;
                vec![Some(g.mul(dy, m)?)]
            }
            Op::Equal | Op::Greater => {
                return Err(GraphError::NoGradient {
                    op: node.op.kind(),
                    node: node.name.clone(),
                    reason: " (boolean output)".into(),
                });
            }
            other => unreachable!("elementwise::vjp called for {}", other.kind()),
        })
    })
}

/// Emits the ONNX nodes for an elementwise op. f64 Erf and Gelu are lowered (no f64 kernels).
pub(crate) fn emit(e: &mut Emitter, node: &Node) {
    let ins = e.input_names(node);
    let outs = e.output_names(node);
    let dt = e.graph.dtype(node.outputs[0]);
    match &node.op {
        Op::Erf if dt == DType::F64 => {
            let y = emit_erf_series(e, &node.name, &ins[0]);
            e.node("Identity", &node.name, vec![y], outs, vec![]);
        }
        Op::Gelu if dt == DType::F64 => {
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
        Op::Gelu => e.node(
            "Gelu",
            &node.name,
            ins,
            outs,
            vec![attr_string("approximate", "none")],
        ),
        Op::Cast { to } => e.node(
            "Cast",
            &node.name,
            ins,
            outs,
            vec![attr_int("to", to.onnx_code() as i64)],
        ),
        Op::Dropout { ratio, seed } => {
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
        op => e.node(op.kind(), &node.name, ins, outs, vec![]),
    }
}

/// erf(x) for f64 by the all-positive series erf(x) = 2/√π · x · e^(−x²) · Σ (2x²)ⁿ / (2n+1)!!
/// (Abramowitz & Stegun 7.1.6), 140 terms in Horner form over x², on x clipped to [−6, 6]
/// (|erf(x)| rounds to 1 beyond). No term cancels another, so it is accurate to a few ulps.
fn emit_erf_series(e: &mut Emitter, base: &str, x: &str) -> String {
    // Horner over u = x²/36 ∈ [0, 1] with coefficients (2·36)ⁿ/(2n+1)!!, which stay within
    // [1e-24, 1e14]: ONNX Runtime's graph rewrites lost the tiny coefficients of the plain form.
    let terms = 140;
    let mut coef = Vec::with_capacity(terms);
    let mut c = 1.0f64;
    for n in 0..terms {
        if n > 0 {
            c *= 72.0 / (2 * n + 1) as f64;
        }
        coef.push(c);
    }
    let lo = e.const_scalar(base, DType::F64, -6.0);
    let hi = e.const_scalar(base, DType::F64, 6.0);
    let xc = e.tmp(base, "erf.clip");
    e.node(
        "Clip",
        &format!("{base}/erf.clip"),
        vec![x.to_string(), lo, hi],
        vec![xc.clone()],
        vec![],
    );
    let sq = e.tmp(base, "sq");
    e.node(
        "Mul",
        &format!("{base}/erf.sq"),
        vec![xc.clone(), xc.clone()],
        vec![sq.clone()],
        vec![],
    );
    let inv36 = e.const_scalar(base, DType::F64, 1.0 / 36.0);
    let x2 = e.tmp(base, "u");
    e.node(
        "Mul",
        &format!("{base}/erf.u"),
        vec![sq.clone(), inv36],
        vec![x2.clone()],
        vec![],
    );
    let mut acc = e.const_scalar(base, DType::F64, coef[terms - 1]);
    for n in (0..terms - 1).rev() {
        let m = e.tmp(base, "erf.m");
        e.node(
            "Mul",
            &format!("{base}/erf.m{n}"),
            vec![acc, x2.clone()],
            vec![m.clone()],
            vec![],
        );
        let c = e.const_scalar(base, DType::F64, coef[n]);
        let a = e.tmp(base, "erf.a");
        e.node(
            "Add",
            &format!("{base}/erf.a{n}"),
            vec![m, c],
            vec![a.clone()],
            vec![],
        );
        acc = a;
    }
    let nx2 = e.tmp(base, "erf.nx2");
    e.node(
        "Neg",
        &format!("{base}/erf.nx2"),
        vec![sq],
        vec![nx2.clone()],
        vec![],
    );
    let ex = e.tmp(base, "erf.exp");
    e.node(
        "Exp",
        &format!("{base}/erf.exp"),
        vec![nx2],
        vec![ex.clone()],
        vec![],
    );
    let k = e.const_scalar(base, DType::F64, 2.0 / PI.sqrt());
    let xk = e.tmp(base, "erf.xk");
    e.node(
        "Mul",
        &format!("{base}/erf.xk"),
        vec![xc, k],
        vec![xk.clone()],
        vec![],
    );
    let xe = e.tmp(base, "erf.xe");
    e.node(
        "Mul",
        &format!("{base}/erf.xe"),
        vec![xk, ex],
        vec![xe.clone()],
        vec![],
    );
    let y = e.tmp(base, "erf.y");
    e.node(
        "Mul",
        &format!("{base}/erf.y"),
        vec![xe, acc],
        vec![y.clone()],
        vec![],
    );
    y
}
