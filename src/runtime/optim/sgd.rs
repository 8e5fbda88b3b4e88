//! SGD with momentum (optionally Nesterov) and L2 weight decay added to the gradient: its
//! hyperparameters, its fused kernel and its update over a parameter store.

use super::optimizer::{PARALLEL_MIN_LEN, StepOptions, checked_grad};
use crate::runtime::error::{Result, RuntimeError};
use crate::runtime::params::{OptState, ParamStore};

/// SGD hyperparameters for one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sgd {
    pub lr: f32,
    pub momentum: f32,
    pub weight_decay: f32,
    pub nesterov: bool,
}

impl Default for Sgd {
    fn default() -> Self {
        Sgd {
            lr: 1e-2,
            momentum: 0.9,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

/// [`super::Optimizer::update`] for SGD: state slot `momentum`.
pub(super) fn update<'g>(
    hp: &Sgd,
    params: &mut ParamStore,
    state: &mut OptState,
    opts: &StepOptions,
    mut grad: impl FnMut(&str) -> Option<&'g [f32]>,
) -> Result<()> {
    let step = state.step + 1;
    let buf = state
        .slot_mut("momentum")
        .ok_or_else(|| RuntimeError::param("(optimizer)", "SGD state needs slot 'momentum'"))?;
    if !buf.same_layout(params) {
        return Err(RuntimeError::param(
            "(optimizer)",
            "SGD state is not laid out like the parameters",
        ));
    }
    let mut work = Vec::with_capacity(params.len());
    for (p, b) in params.iter_mut().zip(buf.iter_mut()) {
        if let Some(g) = grad(p.name) {
            let g = checked_grad(p.name, p.data.len(), g)?;
            work.push(((opts.decays)(p.name), p.data, g, b.data));
        }
    }
    let no_decay = Sgd {
        weight_decay: 0.0,
        ..*hp
    };
    for (decay, p, g, b) in work {
        let hp = if decay { hp } else { &no_decay };
        sgd_momentum_step_threads(p, g, b, hp, opts.grad_scale, opts.threads);
    }
    state.step = step;
    Ok(())
}

/// One SGD step with momentum for one buffer, on `threads` threads (chunks of one buffer are
/// independent: every element goes through the same operations). Panics when the buffers'
/// lengths differ.
fn sgd_momentum_step_threads(
    params: &mut [f32],
    grads: &[f32],
    momentum_buf: &mut [f32],
    hp: &Sgd,
    grad_scale: f32,
    threads: usize,
) {
    let n = params.len();
    assert!(
        grads.len() == n && momentum_buf.len() == n,
        "sgd_momentum_step: buffer lengths differ"
    );
    let Sgd {
        lr,
        momentum,
        weight_decay,
        nesterov,
    } = *hp;
    let kernel = |p: &mut [f32], g: &[f32], b: &mut [f32]| {
        for ((p, &g), b) in p.iter_mut().zip(g).zip(b.iter_mut()) {
            let d = g * grad_scale + weight_decay * *p;
            let bi = momentum * *b + d;
            *b = bi;
            let upd = if nesterov { d + momentum * bi } else { bi };
            *p -= lr * upd;
        }
    };
    if threads <= 1 || n < PARALLEL_MIN_LEN {
        return kernel(params, grads, momentum_buf);
    }
    let chunk = n.div_ceil(threads);
    std::thread::scope(|s| {
        let kernel = &kernel;
        for ((p, g), b) in params
            .chunks_mut(chunk)
            .zip(grads.chunks(chunk))
            .zip(momentum_buf.chunks_mut(chunk))
        {
            s.spawn(move || kernel(p, g, b));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::super::Optimizer;
    use super::super::test_util::pseudo_random;
    use super::*;

    #[test]
    fn sgd_momentum_matches_reference() {
        for nesterov in [false, true] {
            let hp = Sgd {
                lr: 0.1,
                momentum: 0.9,
                weight_decay: 0.01,
                nesterov,
            };
            let n = 11;
            let p0 = pseudo_random(n, 3);
            let mut p = p0.clone();
            let mut buf = vec![0.0; n];
            let grads: Vec<Vec<f32>> = (0..4).map(|s| pseudo_random(n, 20 + s)).collect();
            for g in &grads {
                sgd_momentum_step_threads(&mut p, g, &mut buf, &hp, 1.0, 1);
            }
            let mut r: Vec<f64> = p0.iter().map(|&x| x as f64).collect();
            let mut b = vec![0.0f64; n];
            for g in &grads {
                for i in 0..n {
                    let d = g[i] as f64 + 0.01 * r[i];
                    b[i] = 0.9 * b[i] + d;
                    let u = if nesterov { d + 0.9 * b[i] } else { b[i] };
                    r[i] -= 0.1 * u;
                }
            }
            for i in 0..n {
                assert!(
                    (p[i] as f64 - r[i]).abs() < 1e-5,
                    "nesterov={nesterov} i={i}"
                );
            }
        }
    }

    #[test]
    fn sgd_update_over_a_store() {
        let mut params = ParamStore::new();
        params.insert("a", &[2], &[1.0, 2.0]).unwrap();
        params.insert("frozen", &[1], &[5.0]).unwrap();
        let hp = Optimizer::Sgd(Sgd {
            lr: 0.1,
            momentum: 0.5,
            weight_decay: 0.0,
            nesterov: false,
        });
        let mut state = hp.state(&params);
        let g = [1.0f32, -1.0];
        let opts = StepOptions::default();
        for _ in 0..2 {
            hp.update(&mut params, &mut state, &opts, |n| {
                (n == "a").then_some(&g[..])
            })
            .unwrap();
        }
        // b1 = g, b2 = 0.5 g + g = 1.5 g; p = p0 - 0.1 (g + 1.5 g) = p0 - 0.25 g.
        assert_eq!(params.get("a").unwrap(), &[0.75, 2.25]);
        assert_eq!(params.get("frozen").unwrap(), &[5.0]);
        assert_eq!(state.step, 2);
        let mut wrong = OptState::adamw(&params);
        let e = hp
            .update(&mut params, &mut wrong, &opts, |_| None)
            .unwrap_err();
        assert!(e.to_string().contains("momentum"), "{e}");
    }

    #[test]
    fn sgd_update_decays_only_where_asked_and_threads_do_not_change_results() {
        let n = PARALLEL_MIN_LEN * 2 + 13;
        let mut params = ParamStore::new();
        params.insert("w", &[n], &pseudo_random(n, 1)).unwrap();
        params.insert("w.bias", &[n], &pseudo_random(n, 2)).unwrap();
        let grads = [pseudo_random(n, 3), pseudo_random(n, 4)];
        let grad_of = |name: &str| {
            Some(if name == "w" {
                &grads[0][..]
            } else {
                &grads[1][..]
            })
        };
        let hp = Sgd {
            lr: 0.1,
            momentum: 0.9,
            weight_decay: 0.1,
            nesterov: true,
        };
        let opt = Optimizer::Sgd(hp);
        let run = |threads: usize| {
            let mut p = params.clone();
            let mut s = opt.state(&p);
            let opts = StepOptions {
                grad_scale: 0.5,
                decays: |name| !name.ends_with(".bias"),
                threads,
            };
            for _ in 0..3 {
                opt.update(&mut p, &mut s, &opts, grad_of).unwrap();
            }
            p
        };
        let one = run(1);
        assert_eq!(
            one.checksum(),
            run(3).checksum(),
            "chunking must not change results"
        );
        // By hand: the bias with weight decay 0, the weight with 0.1.
        let mut reference = params.clone();
        let mut bufs = [vec![0.0; n], vec![0.0; n]];
        for _ in 0..3 {
            for (i, (p, b)) in reference.iter_mut().zip(bufs.iter_mut()).enumerate() {
                let hp = Sgd {
                    weight_decay: if i == 0 { 0.1 } else { 0.0 },
                    ..hp
                };
                sgd_momentum_step_threads(p.data, &grads[i], b, &hp, 0.5, 1);
            }
        }
        assert_eq!(one.checksum(), reference.checksum());
    }
}
