//! Linear centered kernel alignment (Kornblith et al. 2019): how similar two sets of features of
//! the same examples are, invariant to orthogonal transforms and isotropic scaling of either.

/// Linear CKA between `x` (`n` rows of `dx` features) and `y` (`n` rows of `dy`), both row-major,
/// computed in f64: each column centered, then ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F). NaN when
/// `n` < 2, when the lengths do not match `n`, or when either set is constant (zero after
/// centering).
pub fn linear_cka(x: &[f32], dx: usize, y: &[f32], dy: usize, n: usize) -> f64 {
    if n < 2 || dx == 0 || dy == 0 || x.len() != n * dx || y.len() != n * dy {
        return f64::NAN;
    }
    let xc = centered(x, dx, n);
    let yc = centered(y, dy, n);
    let yx = gram_norm_sq(&yc, dy, &xc, dx, n);
    let xx = gram_norm_sq(&xc, dx, &xc, dx, n).sqrt();
    let yy = gram_norm_sq(&yc, dy, &yc, dy, n).sqrt();
    if xx == 0.0 || yy == 0.0 {
        return f64::NAN;
    }
    yx / (xx * yy)
}

/// The rows with each column's mean subtracted, in f64.
fn centered(a: &[f32], d: usize, n: usize) -> Vec<f64> {
    let mut mean = vec![0.0f64; d];
    for row in a.chunks_exact(d) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += v as f64;
        }
    }
    for m in &mut mean {
        *m /= n as f64;
    }
    a.chunks_exact(d)
        .flat_map(|row| row.iter().zip(&mean).map(|(&v, m)| v as f64 - m))
        .collect()
}

/// ‖AᵀB‖²_F for row-major `a` (n × da) and `b` (n × db).
fn gram_norm_sq(a: &[f64], da: usize, b: &[f64], db: usize, n: usize) -> f64 {
    let mut m = vec![0.0f64; da * db];
    for r in 0..n {
        let (ar, br) = (&a[r * da..(r + 1) * da], &b[r * db..(r + 1) * db]);
        for (i, &av) in ar.iter().enumerate() {
            let row = &mut m[i * db..(i + 1) * db];
            for (o, &bv) in row.iter_mut().zip(br) {
                *o += av * bv;
            }
        }
    }
    m.iter().map(|v| v * v).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random(n: usize, d: usize, seed: u64) -> Vec<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n * d)
            .map(|_| rng.random::<f32>() * 2.0 - 1.0)
            .collect()
    }

    #[test]
    fn identical_features_give_one() {
        let x = random(50, 4, 1);
        assert!((linear_cka(&x, 4, &x, 4, 50) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn rotation_and_isotropic_scaling_leave_one() {
        let (n, d) = (40, 2);
        let x = random(n, d, 2);
        // A 2-D rotation by 0.7 rad, then a scaling by 3.5 and a shift (centering removes it).
        let (c, s) = (0.7f32.cos(), 0.7f32.sin());
        let y: Vec<f32> = x
            .chunks_exact(2)
            .flat_map(|r| {
                [
                    3.5 * (c * r[0] - s * r[1]) + 1.0,
                    3.5 * (s * r[0] + c * r[1]) - 2.0,
                ]
            })
            .collect();
        assert!((linear_cka(&x, d, &y, d, n) - 1.0).abs() < 1e-6);
        // Scaling alone, and a different width on one side: a rotation into 3-D (padding
        // with a zero column is an isometry).
        let z: Vec<f32> = x.chunks_exact(2).flat_map(|r| [r[1], 0.0, -r[0]]).collect();
        assert!((linear_cka(&x, d, &z, 3, n) - 1.0).abs() < 1e-6);
        // An anisotropic scaling is not invariant: the test can fail.
        let w: Vec<f32> = x
            .chunks_exact(2)
            .flat_map(|r| [10.0 * r[0], r[1]])
            .collect();
        assert!(linear_cka(&x, d, &w, d, n) < 0.99);
    }

    #[test]
    fn independent_random_features_are_near_zero() {
        // For independent features E[‖YᵀX‖²_F] ≈ n·dx·dy·σ⁴ while ‖XᵀX‖_F ≈ n·√dx·σ², so
        // CKA ≈ √(dx·dy)/n = 8/2000 = 0.004 here.
        let (n, d) = (2000, 8);
        let v = linear_cka(&random(n, d, 3), d, &random(n, d, 4), d, n);
        assert!(v < 0.05, "{v}");
        assert!(v >= 0.0);
    }

    #[test]
    fn matches_a_float64_reference() {
        // numpy, float64:
        //   n, d1, d2 = 6, 3, 2
        //   X = np.array([[((i*7+j*3)%11)/10.0 - 0.5 for j in range(d1)] for i in range(n)])
        //   Y = np.array([[((i*5+j*2)%7)/6.0 + 0.1*i for j in range(d2)] for i in range(n)])
        //   Xc = X - X.mean(0); Yc = Y - Y.mean(0)
        //   np.linalg.norm(Yc.T@Xc)**2 / (np.linalg.norm(Xc.T@Xc) * np.linalg.norm(Yc.T@Yc))
        //   -> 0.41344790431959977
        let (n, d1, d2) = (6, 3, 2);
        let x: Vec<f32> = (0..n)
            .flat_map(|i| (0..d1).map(move |j| ((i * 7 + j * 3) % 11) as f32 / 10.0 - 0.5))
            .collect();
        let y: Vec<f32> = (0..n)
            .flat_map(|i| (0..d2).map(move |j| ((i * 5 + j * 2) % 7) as f32 / 6.0 + 0.1 * i as f32))
            .collect();
        // Inputs are f32 (as features are), so agreement is to f32 rounding of the inputs.
        let v = linear_cka(&x, d1, &y, d2, n);
        assert!((v - 0.41344790431959977).abs() < 1e-6, "{v}");
    }

    #[test]
    fn degenerate_inputs_are_nan() {
        assert!(linear_cka(&[1.0, 1.0], 1, &[1.0, 2.0], 1, 2).is_nan());
        assert!(linear_cka(&[1.0], 1, &[1.0], 1, 1).is_nan());
    }
}
