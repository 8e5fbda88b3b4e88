//! The statistics every table and chart of the report uses: mean, sample standard deviation and
//! the half-width of the 95% confidence interval from Student's t distribution.

/// Two-sided 95% critical values of Student's t for 1..=30 degrees of freedom.
const T95: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The two-sided 95% critical value of Student's t with `df` degrees of freedom (the normal
/// distribution's 1.96 beyond 30; NaN for none).
pub fn t95(df: usize) -> f64 {
    if df == 0 {
        f64::NAN
    } else if df <= 30 {
        T95[df - 1]
    } else {
        1.96
    }
}

/// (mean, sample std, half-width of the 95% CI) of `xs`.
pub fn mean_std_ci(xs: &[f64]) -> (f64, f64, f64) {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, f64::NAN, f64::NAN);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let std = var.sqrt();
    (mean, std, t95(xs.len() - 1) * std / n.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_uses_t_distribution() {
        let (m, s, ci) = mean_std_ci(&[1.0, 2.0, 3.0]);
        assert_eq!(m, 2.0);
        assert_eq!(s, 1.0);
        assert!((ci - 4.303 / 3f64.sqrt()).abs() < 1e-12);
    }
}
