//! Encode throughput of the standalone exported encoder (`embedlab export`), in f32 and with
//! its MatMuls quantized to int8 (`export --quantize int8`), side by side in one run: what a
//! user who serves the exported file gets.

use super::{BenchShape, median};

use crate::graph::Tensor;
use crate::interop::{encoder_model, quantize_int8};
use crate::model::{Input, Pooling};
use crate::runtime::{Feeds, ParamStore, Session, SessionOptions};
use anyhow::Result;
use std::time::Instant;

/// Encode seconds (medians) of the exported f32 encoder and of its int8 version, timed in
/// blocks (f32, int8, f32, int8; each block one warm-up pass, then `steps` / 2 timed passes) so
/// that a change in the machine's load falls on both while each block runs with its own weights
/// in cache.
pub fn time_exported(
    s: &BenchShape,
    params: &ParamStore,
    opts: &SessionOptions,
    batch: &[(Input, &Tensor)],
    steps: usize,
) -> Result<(f64, f64)> {
    let f32_model = encoder_model(&s.spec, params, Pooling::Mean)?;
    let int8 = quantize_int8(&f32_model.bytes)?;
    let mut sessions = [
        Session::from_bytes("export f32", &f32_model.bytes, opts)?,
        Session::from_bytes("export int8", &int8.bytes, opts)?,
    ];
    let mut times = [Vec::new(), Vec::new()];
    let per_block = steps.div_ceil(2).max(1);
    for _round in 0..2 {
        for (sess, t) in sessions.iter_mut().zip(times.iter_mut()) {
            for i in 0..=per_block {
                let mut feeds = Feeds::new();
                for (n, x) in batch {
                    feeds.tensor(n.name(), x);
                }
                let t0 = Instant::now();
                let _ = sess.run(&feeds)?;
                if i > 0 {
                    t.push(t0.elapsed().as_secs_f64());
                }
            }
        }
    }
    let [a, b] = times;
    Ok((median(a), median(b)))
}
