//! Multinomial logistic regression over TF-IDF rows, solved by linfa-logistic (L-BFGS with a
//! Moré–Thuente line search, the same pair scikit-learn's `lbfgs` solver uses through SciPy).
//!
//! linfa minimises `Σᵢ −log p(yᵢ | xᵢ) + α/2 · ‖W‖²` (intercepts unpenalised); scikit-learn's
//! `LogisticRegression(C)` minimises `C · Σᵢ −log p(yᵢ | xᵢ) + 1/2 · ‖W‖²`, which has the same
//! minimiser when `α = 1 / C`.

use crate::baseline::error::{BaselineError, Result};
use linfa::DatasetBase;
use linfa::traits::{Fit, Predict};
use linfa_logistic::{MultiFittedLogisticRegression, MultiLogisticRegression};
use ndarray016::{Array1, Array2};

/// The default grid of inverse regularisation strengths, weakest regularisation last.
pub const C_GRID: [f64; 5] = [0.01, 0.1, 1.0, 10.0, 100.0];

/// The solver's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticConfig {
    /// Inverse regularisation strengths to try; the best on dev wins (ties: the earlier one).
    pub grid: Vec<f64>,
    /// L-BFGS iterations at most.
    pub max_iterations: u64,
    /// L-BFGS stops when the gradient's Euclidean norm (of the summed loss) falls below this.
    pub gradient_tolerance: f64,
}

impl Default for LogisticConfig {
    fn default() -> Self {
        LogisticConfig {
            grid: C_GRID.to_vec(),
            max_iterations: 1000,
            gradient_tolerance: 1e-4,
        }
    }
}

/// Fits one model per C of `cfg.grid`, returned in grid order. The fits are independent (each
/// starts from zero), so they run on up to `available_parallelism` threads at once and give
/// the same models as one after another.
pub fn fit_grid(
    x: &Array2<f64>,
    y: &[usize],
    cfg: &LogisticConfig,
) -> Result<Vec<(f64, Logistic)>> {
    if cfg.grid.is_empty() {
        return Err(BaselineError::EmptyGrid);
    }
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let mut out = Vec::with_capacity(cfg.grid.len());
    for chunk in cfg.grid.chunks(threads) {
        let fitted: Vec<Result<Logistic>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|&c| scope.spawn(move || Logistic::fit(x, y, c, cfg)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        for (&c, model) in chunk.iter().zip(fitted) {
            out.push((c, model?));
        }
    }
    Ok(out)
}

/// A fitted classifier over class ids.
pub struct Logistic {
    model: MultiFittedLogisticRegression<f64, usize>,
}

impl Logistic {
    /// Fits rows `x` to class ids `y` with inverse regularisation strength `c`.
    pub fn fit(x: &Array2<f64>, y: &[usize], c: f64, cfg: &LogisticConfig) -> Result<Logistic> {
        if !(c.is_finite() && c > 0.0) {
            return Err(BaselineError::InvalidC { c });
        }
        let data = DatasetBase::new(x.view(), Array1::from(y.to_vec()));
        let model = MultiLogisticRegression::<f64>::default()
            .alpha(1.0 / c)
            .max_iterations(cfg.max_iterations)
            .gradient_tolerance(cfg.gradient_tolerance)
            .fit(&data)
            .map_err(|source| BaselineError::Solver { c, source })?;
        Ok(Logistic { model })
    }

    /// The most probable class id of each row.
    pub fn predict(&self, x: &Array2<f64>) -> Vec<usize> {
        self.model.predict(x).to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_three_classes_and_regularisation_shrinks_weights() {
        // One indicator feature per class: any reasonable C fits the train set.
        let x = Array2::from_shape_fn((6, 3), |(i, j)| f64::from(u8::from(i % 3 == j)));
        let y = [0, 1, 2, 0, 1, 2];
        let cfg = LogisticConfig::default();
        let strong = Logistic::fit(&x, &y, 0.01, &cfg).unwrap();
        let weak = Logistic::fit(&x, &y, 100.0, &cfg).unwrap();
        assert_eq!(weak.predict(&x), y);
        let norm = |m: &Logistic| m.model.params().iter().map(|w| w * w).sum::<f64>();
        assert!(norm(&strong) < norm(&weak));
        assert!(matches!(
            Logistic::fit(&x, &y, 0.0, &cfg),
            Err(BaselineError::InvalidC { .. })
        ));
        // The grid's fits, run side by side, are the fits run one by one.
        let grid = fit_grid(&x, &y, &cfg).unwrap();
        let cs: Vec<f64> = grid.iter().map(|(c, _)| *c).collect();
        assert_eq!(cs, C_GRID);
        let one = Logistic::fit(&x, &y, cs[2], &cfg).unwrap();
        assert_eq!(grid[2].1.model.params(), one.model.params());
        let empty = LogisticConfig {
            grid: vec![],
            ..cfg
        };
        assert!(matches!(
            fit_grid(&x, &y, &empty),
            Err(BaselineError::EmptyGrid)
        ));
    }
}
