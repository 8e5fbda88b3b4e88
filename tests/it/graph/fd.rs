//! Central finite-difference checks of gradients, on graphs run in ONNX Runtime.
use super::exec::Exec;
use embedlab::graph::{self, DType, Graph, Tensor, ValueId};
use rand::{Rng, SeedableRng};

/// Named tolerance levels: |analytic − numeric| ≤ atol + rtol·|numeric|.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    pub atol: f64,
    pub rtol: f64,
}
/// Central differences on float64 graphs with step 1e-6: truncation ~1e-12, rounding ~1e-10.
pub const F64_FD: Tolerance = Tolerance {
    atol: 1e-7,
    rtol: 1e-6,
};

/// A deterministic f64 tensor with entries uniform in [lo, hi).
pub fn rand_f64(shape: &[usize], seed: u64, lo: f64, hi: f64) -> Tensor {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n = shape.iter().product();
    Tensor::f64(
        shape.to_vec(),
        (0..n).map(|_| rng.random_range(lo..hi)).collect(),
    )
}

/// Builds `loss = Σ out ⊙ W` (W fixed random weights) over `build`'s output, differentiates it with
/// respect to every f64 input, and compares with central finite differences of the same loss.
/// `fresh_session` re-creates the session per evaluation (ops whose randomness advances per run).
pub fn grad_check(
    name: &str,
    inputs: &[Tensor],
    fresh_session: bool,
    tol: Tolerance,
    build: impl Fn(&mut Graph, &[ValueId]) -> graph::Result<ValueId>,
) -> Result<(), String> {
    let make = |with_grads: bool| -> graph::Result<(Graph, Vec<usize>)> {
        let mut g = Graph::new(name);
        let xs: Vec<ValueId> = inputs
            .iter()
            .enumerate()
            .map(|(i, t)| g.input(&format!("x{i}"), t.dtype(), &t.shape))
            .collect::<graph::Result<_>>()?;
        let out = build(&mut g, &xs)?;
        let w = rand_f64(g.shape(out), 99, -1.0, 1.0);
        let wv = g.constant(w);
        let prod = g.mul(out, wv)?;
        let loss = g.sum_all(prod)?;
        g.output("loss", loss)?;
        let float_idx: Vec<usize> = (0..inputs.len())
            .filter(|&i| inputs[i].dtype() == DType::F64)
            .collect();
        if with_grads {
            let wrt: Vec<ValueId> = float_idx.iter().map(|&i| xs[i]).collect();
            let grads = graph::backward_or_zeros(&mut g, loss, &wrt)?;
            for (&i, d) in float_idx.iter().zip(grads) {
                g.output(&format!("grad.x{i}"), d)?;
            }
        }
        Ok((g, float_idx))
    };
    let (gf, float_idx) = make(false).map_err(|e| e.to_string())?;
    let (gg, _) = make(true).map_err(|e| e.to_string())?;
    let fwd_bytes = graph::to_onnx_bytes(&gf).map_err(|e| e.to_string())?;
    let grad_bytes = graph::to_onnx_bytes(&gg).map_err(|e| e.to_string())?;
    let feeds = |ts: &[Tensor]| -> Vec<(String, Tensor)> {
        ts.iter()
            .enumerate()
            .map(|(i, t)| (format!("x{i}"), t.clone()))
            .collect()
    };
    let analytic = Exec::new(&grad_bytes).run(&feeds(inputs));
    let mut fwd = Exec::new(&fwd_bytes);
    let mut eval = |ts: &[Tensor]| -> f64 {
        let out = if fresh_session {
            Exec::new(&fwd_bytes).run(&feeds(ts))
        } else {
            fwd.run(&feeds(ts))
        };
        out[0].1.as_f64().unwrap()[0]
    };
    let eps = 1e-6;
    for &i in &float_idx {
        let a = analytic
            .iter()
            .find(|(n, _)| *n == format!("grad.x{i}"))
            .unwrap()
            .1
            .as_f64()
            .unwrap()
            .to_vec();
        let base = inputs[i].as_f64().unwrap().to_vec();
        for k in 0..base.len() {
            let mut plus = inputs.to_vec();
            let mut minus = inputs.to_vec();
            let mut p = base.clone();
            p[k] += eps;
            plus[i] = Tensor::f64(inputs[i].shape.clone(), p);
            let mut m = base.clone();
            m[k] -= eps;
            minus[i] = Tensor::f64(inputs[i].shape.clone(), m);
            let numeric = (eval(&plus) - eval(&minus)) / (2.0 * eps);
            if (a[k] - numeric).abs() > tol.atol + tol.rtol * numeric.abs() {
                return Err(format!(
                    "{name}: d loss / d x{i}[{k}]: analytic {} vs numeric {numeric}",
                    a[k]
                ));
            }
        }
    }
    Ok(())
}
