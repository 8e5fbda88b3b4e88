//! Training: optimizer settings, the learning-rate schedule, and the step that runs a
//! `train_step` graph in ONNX Runtime and applies the fused host update.
mod schedule;
mod trainer;

pub use schedule::{OptimSpec, OptimizerKind, Schedule, decays};
pub use trainer::{Batch, StepStats, Trainer, evaluate, init_params, session};
