//! What a training loop reports while it runs: steps for the progress display, and points of
//! the learning curves.

/// What a stage reports while it trains.
pub trait Progress {
    /// Called with (step, total steps, last loss).
    fn step(&self, step: u64, total: u64, loss: f64);
    /// A point of a learning curve (`train`/`dev`, metric name, optimizer step, value).
    fn point(&self, _split: &str, _metric: &str, _step: u64, _value: f64) {}
}

/// Every how many steps a training loss goes into the learning curve (about 200 points).
pub fn curve_every(total: u64) -> u64 {
    (total / 200).max(1)
}
