//! Global-norm gradient clipping: the L2 norm over all gradient buffers, accumulated in f64 in a
//! fixed order (the same sum on every machine), and the factor that scales gradients down to a
//! maximum norm, passed to the update as [`super::StepOptions::grad_scale`].

/// The L2 norm over all gradient buffers together, accumulated in f64.
pub fn global_grad_norm(grads: &[&[f32]]) -> f32 {
    grads.iter().map(|g| sum_squares(g)).sum::<f64>().sqrt() as f32
}

/// Independent f64 accumulators of [`sum_squares`]: one chain of dependent additions is bound by
/// the adder's latency (about 2 ms for 1.45M values); eight chains vectorise. The order of the
/// additions is fixed by this constant, not by the CPU, so every machine gets the same sum.
const NORM_LANES: usize = 8;

/// The sum of squares of one buffer in f64, on AVX2 where the CPU has it (same result either way:
/// the lanes are independent, so wider vectors do not reorder any addition).
fn sum_squares(g: &[f32]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { sum_squares_avx2(g) };
    }
    sum_squares_lanes(g)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn sum_squares_avx2(g: &[f32]) -> f64 {
    sum_squares_lanes(g)
}

#[inline(always)]
fn sum_squares_lanes(g: &[f32]) -> f64 {
    let mut acc = [0.0f64; NORM_LANES];
    let chunks = g.chunks_exact(NORM_LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += (x as f64) * (x as f64);
        }
    }
    let mut s: f64 = acc.iter().sum();
    for &x in rest {
        s += (x as f64) * (x as f64);
    }
    s
}

/// The factor that scales gradients of norm `norm` down to at most `max_norm` (1.0 when already
/// within, or when `max_norm` is not positive, meaning no clipping).
pub fn clip_factor(norm: f32, max_norm: f32) -> f32 {
    if max_norm > 0.0 && norm > max_norm {
        max_norm / (norm + 1e-6)
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::optim::test_util::pseudo_random;

    #[test]
    fn lane_sum_of_squares_matches_one_chain() {
        // Lengths with and without a remainder after the lanes.
        for n in [0usize, 5, NORM_LANES * 1000, NORM_LANES * 1000 + 7] {
            let g = pseudo_random(n, 42);
            let chain: f64 = g.iter().map(|&x| (x as f64) * (x as f64)).sum();
            let lanes = sum_squares(&g);
            assert!((lanes - chain).abs() <= 1e-12 * chain.max(1.0), "n={n}");
            assert_eq!(
                sum_squares_lanes(&g),
                lanes,
                "AVX2 and portable paths agree"
            );
            assert_eq!(global_grad_norm(&[&g]), chain.sqrt() as f32, "n={n}");
        }
    }

    #[test]
    fn grad_norm_and_clipping() {
        let a = [3.0f32, 0.0];
        let b = [4.0f32];
        let n = global_grad_norm(&[&a, &b]);
        assert_eq!(n, 5.0);
        assert_eq!(clip_factor(n, 10.0), 1.0);
        assert!((clip_factor(n, 1.0) - 0.2).abs() < 1e-6);
        assert_eq!(clip_factor(n, 0.0), 1.0);
    }
}
