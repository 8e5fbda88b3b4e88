//! AdamW: its hyperparameters, its fused kernel (bit-identical with and without AVX2) and its
//! update over a parameter store, balanced over threads.

use super::optimizer::{PARALLEL_MIN_LEN, StepOptions, checked_grad};
use crate::runtime::error::{Result, RuntimeError};
use crate::runtime::params::{OptState, ParamStore};

/// AdamW hyperparameters for one step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamW {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
}

impl Default for AdamW {
    fn default() -> Self {
        AdamW {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.01,
        }
    }
}

/// [`super::Optimizer::update`] for AdamW: state slots `m` and `v`. The work over all parameters
/// is cut into `opts.threads` pieces of equal size (a large parameter may be split, small ones
/// grouped), so one round of thread spawns serves the whole step however many parameters there
/// are.
pub(super) fn update<'g>(
    hp: &AdamW,
    params: &mut ParamStore,
    state: &mut OptState,
    opts: &StepOptions,
    mut grad: impl FnMut(&str) -> Option<&'g [f32]>,
) -> Result<()> {
    let step = state.step + 1;
    let (m, v) = state
        .slot_pair_mut("m", "v")
        .ok_or_else(|| RuntimeError::param("(optimizer)", "AdamW state needs slots 'm' and 'v'"))?;
    if !m.same_layout(params) || !v.same_layout(params) {
        return Err(RuntimeError::param(
            "(optimizer)",
            "AdamW state is not laid out like the parameters",
        ));
    }
    let mut work = Vec::with_capacity(params.len());
    for ((p, m), v) in params.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()) {
        if let Some(g) = grad(p.name) {
            let g = checked_grad(p.name, p.data.len(), g)?;
            work.push(Work {
                decay: (opts.decays)(p.name),
                p: p.data,
                g,
                m: m.data,
                v: v.data,
            });
        }
    }
    let c = AdamWCoeffs::new(hp, step, opts.grad_scale);
    let c_no_decay = AdamWCoeffs::new(
        &AdamW {
            weight_decay: 0.0,
            ..*hp
        },
        step,
        opts.grad_scale,
    );
    let buckets = balance(work, opts.threads);
    let run = |bucket: Vec<Work<'_>>| {
        for w in bucket {
            if w.decay { &c } else { &c_no_decay }.apply(w.p, w.g, w.m, w.v);
        }
    };
    if buckets.len() <= 1 {
        buckets.into_iter().for_each(run);
    } else {
        std::thread::scope(|s| {
            for bucket in buckets {
                s.spawn(|| run(bucket));
            }
        });
    }
    state.step = step;
    Ok(())
}

/// The per-step constants of AdamW, computed once in f64.
#[derive(Debug, Clone, Copy)]
struct AdamWCoeffs {
    b1: f32,
    b2: f32,
    eps: f32,
    step_size: f32,
    inv_sqrt_bc2: f32,
    decay: f32,
    grad_scale: f32,
}

impl AdamWCoeffs {
    fn new(hp: &AdamW, step: u64, grad_scale: f32) -> AdamWCoeffs {
        assert!(step >= 1, "adamw_step: steps count from 1");
        let t = step.min(i32::MAX as u64) as i32;
        let bc1 = 1.0 - (hp.beta1 as f64).powi(t);
        let bc2 = 1.0 - (hp.beta2 as f64).powi(t);
        AdamWCoeffs {
            b1: hp.beta1,
            b2: hp.beta2,
            eps: hp.eps,
            step_size: (hp.lr as f64 / bc1) as f32,
            inv_sqrt_bc2: (1.0 / bc2.sqrt()) as f32,
            decay: 1.0 - hp.lr * hp.weight_decay,
            grad_scale,
        }
    }

    /// The update of one buffer, on AVX2 where the CPU has it. Bit-identical either way: each
    /// element goes through the same IEEE operations (no fused multiply-add), only more at once.
    fn apply(&self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.apply_avx2(p, g, m, v) };
        }
        self.apply_portable(p, g, m, v)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn apply_avx2(&self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        self.apply_portable(p, g, m, v)
    }

    #[inline(always)]
    fn apply_portable(&self, p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32]) {
        let AdamWCoeffs {
            b1,
            b2,
            eps,
            step_size,
            inv_sqrt_bc2,
            decay,
            grad_scale,
        } = *self;
        // Zipped iterators rather than indexing: no bounds checks, so the loop vectorises.
        for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(v.iter_mut()) {
            let g = g * grad_scale;
            let mi = b1 * *m + (1.0 - b1) * g;
            let vi = b2 * *v + (1.0 - b2) * g * g;
            *m = mi;
            *v = vi;
            *p = *p * decay - step_size * mi / (vi.sqrt() * inv_sqrt_bc2 + eps);
        }
    }
}

/// One parameter's (or one piece of a parameter's) buffers.
struct Work<'a> {
    /// Whether weight decay applies.
    decay: bool,
    p: &'a mut [f32],
    g: &'a [f32],
    m: &'a mut [f32],
    v: &'a mut [f32],
}

impl<'a> Work<'a> {
    fn split_at(self, k: usize) -> (Work<'a>, Work<'a>) {
        let (p0, p1) = self.p.split_at_mut(k);
        let (g0, g1) = self.g.split_at(k);
        let (m0, m1) = self.m.split_at_mut(k);
        let (v0, v1) = self.v.split_at_mut(k);
        (
            Work {
                decay: self.decay,
                p: p0,
                g: g0,
                m: m0,
                v: v0,
            },
            Work {
                decay: self.decay,
                p: p1,
                g: g1,
                m: m1,
                v: v1,
            },
        )
    }
}

/// Cuts the work into at most `threads` buckets of about equal length, in order; a single bucket
/// when the total is below [`PARALLEL_MIN_LEN`].
fn balance(work: Vec<Work<'_>>, threads: usize) -> Vec<Vec<Work<'_>>> {
    let total: usize = work.iter().map(|w| w.p.len()).sum();
    if threads <= 1 || total < PARALLEL_MIN_LEN {
        return vec![work];
    }
    let target = total.div_ceil(threads);
    let mut buckets: Vec<Vec<Work<'_>>> = vec![Vec::new()];
    let mut room = target;
    for mut w in work {
        while w.p.len() > room {
            let (head, tail) = w.split_at(room);
            if let Some(b) = buckets.last_mut() {
                b.push(head);
            }
            buckets.push(Vec::new());
            room = target;
            w = tail;
        }
        room -= w.p.len();
        if let Some(b) = buckets.last_mut() {
            b.push(w);
        }
    }
    buckets.retain(|b| !b.is_empty());
    buckets
}

#[cfg(test)]
mod tests {
    use super::super::Optimizer;
    use super::super::test_util::pseudo_random;
    use super::*;

    /// The textbook AdamW, one scalar at a time, in f64.
    fn reference_adamw(p: &mut [f64], g_steps: &[Vec<f64>], hp: &AdamW) {
        let (lr, b1, b2, eps, wd) = (
            hp.lr as f64,
            hp.beta1 as f64,
            hp.beta2 as f64,
            hp.eps as f64,
            hp.weight_decay as f64,
        );
        let mut m = vec![0.0; p.len()];
        let mut v = vec![0.0; p.len()];
        for (t, g) in g_steps.iter().enumerate() {
            let t = (t + 1) as i32;
            for i in 0..p.len() {
                p[i] -= lr * wd * p[i];
                m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                let mhat = m[i] / (1.0 - b1.powi(t));
                let vhat = v[i] / (1.0 - b2.powi(t));
                p[i] -= lr * mhat / (vhat.sqrt() + eps);
            }
        }
    }

    /// AdamW steps (one per gradient) over a store holding one parameter of `n` values.
    fn store_steps(
        n: usize,
        threads: usize,
        grad_scale: f32,
        hp: &AdamW,
        grads: &[Vec<f32>],
    ) -> ParamStore {
        let mut params = ParamStore::new();
        params.insert("p", &[n], &pseudo_random(n, 1)).unwrap();
        let opt = Optimizer::AdamW(*hp);
        let mut state = opt.state(&params);
        let opts = StepOptions {
            grad_scale,
            threads,
            ..Default::default()
        };
        for g in grads {
            opt.update(&mut params, &mut state, &opts, |_| Some(&g[..]))
                .unwrap();
        }
        params
    }

    fn check_adamw(n: usize, threads: usize) {
        let hp = AdamW {
            lr: 1e-2,
            beta1: 0.9,
            beta2: 0.99,
            eps: 1e-8,
            weight_decay: 0.1,
        };
        let grads: Vec<Vec<f32>> = (0..5).map(|s| pseudo_random(n, 10 + s)).collect();
        let params = store_steps(n, threads, 1.0, &hp, &grads);
        let p = params.get("p").unwrap();
        let mut r: Vec<f64> = pseudo_random(n, 1).iter().map(|&x| x as f64).collect();
        let g64: Vec<Vec<f64>> = grads
            .iter()
            .map(|g| g.iter().map(|&x| x as f64).collect())
            .collect();
        reference_adamw(&mut r, &g64, &hp);
        for i in 0..n {
            assert!(
                (p[i] as f64 - r[i]).abs() < 2e-6,
                "i={i}: {} vs {}",
                p[i],
                r[i]
            );
        }
    }

    #[test]
    fn adamw_matches_scalar_reference() {
        check_adamw(37, 1);
    }

    #[test]
    fn adamw_threaded_matches_reference_and_single_thread() {
        let n = PARALLEL_MIN_LEN * 2 + 13;
        check_adamw(n, 3);
        let hp = AdamW::default();
        let g = vec![pseudo_random(n, 7)];
        let a = store_steps(n, 1, 0.5, &hp, &g);
        let b = store_steps(n, 4, 0.5, &hp, &g);
        assert_eq!(
            a.checksum(),
            b.checksum(),
            "chunking must not change results"
        );
    }

    #[test]
    fn adamw_kernel_is_bit_identical_on_every_path() {
        let n = 1003;
        let c = AdamWCoeffs::new(&AdamW::default(), 3, 0.8);
        let g = pseudo_random(n, 5);
        let (mut p0, mut m0, mut v0) = (
            pseudo_random(n, 6),
            pseudo_random(n, 7),
            pseudo_random(n, 8)
                .iter()
                .map(|x| x.abs())
                .collect::<Vec<_>>(),
        );
        let (mut p1, mut m1, mut v1) = (p0.clone(), m0.clone(), v0.clone());
        c.apply(&mut p0, &g, &mut m0, &mut v0);
        c.apply_portable(&mut p1, &g, &mut m1, &mut v1);
        assert_eq!((p0, m0, v0), (p1, m1, v1));
    }

    #[test]
    fn store_update_on_threads_is_bit_identical_to_per_buffer_steps() {
        // Sizes chosen so buckets split large parameters and group small ones.
        let sizes = [
            7usize,
            PARALLEL_MIN_LEN + 5,
            3,
            40_000,
            1,
            PARALLEL_MIN_LEN / 3,
            2 * PARALLEL_MIN_LEN,
        ];
        let mut params = ParamStore::new();
        for (i, &n) in sizes.iter().enumerate() {
            params
                .insert(format!("p{i}"), &[n], &pseudo_random(n, i as u64))
                .unwrap();
        }
        let grads: Vec<Vec<f32>> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| pseudo_random(n, 100 + i as u64))
            .collect();
        let grad_of = |name: &str| {
            let i: usize = name[1..].parse().unwrap();
            (i != 2).then(|| grads[i].as_slice()) // p2 is frozen
        };
        let hp = AdamW::default();
        let mut reference = params.clone();
        let mut ref_state = OptState::adamw(&params);
        let mut state = OptState::adamw(&params);
        let opts = StepOptions {
            grad_scale: 0.7,
            threads: 3,
            ..Default::default()
        };
        for step in 1..=3u64 {
            Optimizer::AdamW(hp)
                .update(&mut params, &mut state, &opts, grad_of)
                .unwrap();
            let (m, v) = ref_state.slot_pair_mut("m", "v").unwrap();
            for ((p, m), v) in reference.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()) {
                if let Some(g) = grad_of(p.name) {
                    AdamWCoeffs::new(&hp, step, 0.7).apply(p.data, g, m.data, v.data);
                }
            }
        }
        assert_eq!(params.checksum(), reference.checksum());
        assert_eq!(
            state.slot("v").unwrap().checksum(),
            ref_state.slot("v").unwrap().checksum()
        );
        assert_eq!(state.step, 3);
    }

    #[test]
    fn balance_cuts_into_equal_ordered_pieces() {
        let n = PARALLEL_MIN_LEN;
        let mut a = vec![0.0f32; 3 * n];
        let g = vec![0.0f32; 3 * n];
        let (mut m, mut v) = (a.clone(), a.clone());
        let (a0, a1) = a.split_at_mut(n / 2);
        let (m0, m1) = m.split_at_mut(n / 2);
        let (v0, v1) = v.split_at_mut(n / 2);
        let (g0, g1) = g.split_at(n / 2);
        let work = vec![
            Work {
                decay: true,
                p: a0,
                g: g0,
                m: m0,
                v: v0,
            },
            Work {
                decay: true,
                p: a1,
                g: g1,
                m: m1,
                v: v1,
            },
        ];
        let buckets = balance(work, 4);
        assert_eq!(buckets.len(), 4);
        let lens: Vec<usize> = buckets
            .iter()
            .map(|b| b.iter().map(|w| w.p.len()).sum())
            .collect();
        assert!(lens.iter().all(|&l| l.abs_diff(3 * n / 4) <= 1), "{lens:?}");
    }

    #[test]
    fn adamw_update_over_a_store_skips_frozen() {
        let mut params = ParamStore::new();
        params.insert("a", &[2], &[1.0, 2.0]).unwrap();
        params.insert("frozen", &[1], &[5.0]).unwrap();
        let opt = Optimizer::AdamW(AdamW::default());
        let mut state = opt.state(&params);
        let g = [0.5f32, -0.5];
        let opts = StepOptions::default();
        opt.update(&mut params, &mut state, &opts, |n| {
            (n == "a").then_some(&g[..])
        })
        .unwrap();
        assert_eq!(state.step, 1);
        assert_eq!(params.get("frozen").unwrap(), &[5.0]);
        assert!(params.get("a").unwrap()[0] < 1.0);
        let before = params.checksum();
        let bad = [0.0f32; 3];
        let e = opt
            .update(&mut params, &mut state, &opts, |_| Some(&bad[..]))
            .unwrap_err();
        assert!(e.to_string().contains("'a'"), "{e}");
        assert_eq!(
            (params.checksum(), state.step),
            (before, 1),
            "a failed update changes nothing"
        );
    }
}
