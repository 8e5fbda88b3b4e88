//! Pooling the windows of long examples: a classify or pair example longer than a window is read
//! as several windows (rows of the batch), whose pooled features become one vector before the
//! head.
//!
//! Shapes are static, so a batch of `W` window rows holds at most `W` examples, and which window
//! belongs to which example arrives as the batch input `window_mask [W, W]` (row `e`, column
//! `w`: 1 when window `w` belongs to example `e`). Every row has at least one 1: a row without an
//! example (its label ignored) points at window 0, so a maximum is always over real values.

use super::params::ModelBuilder;
use crate::graph::{self, ValueId};

/// How the windows' features of one example become one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WindowPool {
    /// Their mean.
    Mean,
    /// Their element-wise maximum.
    Max,
}

/// Pools `features [W, D]` of window rows into `[W, D]` per-example features with
/// `mask [W, W]` (see the module's notes).
pub fn pool_windows(
    m: &mut ModelBuilder,
    features: ValueId,
    mask: ValueId,
    pool: WindowPool,
) -> graph::Result<ValueId> {
    let s = m.g.shape(features).to_vec();
    let (w, d) = (s[0], s[1]);
    m.g.scoped("window_pool", |g| match pool {
        WindowPool::Mean => {
            // Rows of the mask normalised to sum 1: a mean as one product.
            let count = g.reduce_sum(mask, &[1], true)?;
            let weights = g.div(mask, count)?;
            g.matmul(weights, features)
        }
        WindowPool::Max => {
            // Windows of other examples move far below any feature before the maximum.
            let off = g.add_scalar(mask, -1.0)?;
            let off = g.mul_scalar(off, 1e9)?;
            let off = g.reshape(off, &[w, w, 1])?;
            let f = g.reshape(features, &[1, w, d])?;
            let shifted = g.add(f, off)?;
            g.reduce_max(shifted, &[1], false)
        }
    })
}

/// The same pooling on the host, for features computed once (feature extraction, `predict`):
/// the mean (each row divided by their count, then summed) or element-wise maximum of `rows`,
/// each `dim` long.
pub fn pool_rows(rows: &[&[f32]], dim: usize, pool: WindowPool) -> Vec<f32> {
    match pool {
        WindowPool::Mean => {
            let mut out = vec![0f32; dim];
            for r in rows {
                for (o, x) in out.iter_mut().zip(r.iter()) {
                    *o += x / rows.len() as f32;
                }
            }
            out
        }
        WindowPool::Max => {
            let mut out = vec![f32::NEG_INFINITY; dim];
            for r in rows {
                for (o, x) in out.iter_mut().zip(r.iter()) {
                    *o = o.max(*x);
                }
            }
            out
        }
    }
}
