//! The f64 lowering of erf: ONNX Runtime has no f64 Erf kernel, and f64 graphs (gradient checks)
//! need one, for Erf itself and for the exact GELU.

use crate::graph::DType;
use crate::graph::export::Emitter;
use std::f64::consts::PI;

/// erf(x) for f64 by the all-positive series erf(x) = 2/√π · x · e^(−x²) · Σ (2x²)ⁿ / (2n+1)!!
/// (Abramowitz & Stegun 7.1.6), 140 terms in Horner form over x², on x clipped to [−6, 6]
/// (|erf(x)| rounds to 1 beyond). No term cancels another, so it is accurate to a few ulps.
pub(crate) fn emit_erf_series(e: &mut Emitter, base: &str, x: &str) -> String {
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
