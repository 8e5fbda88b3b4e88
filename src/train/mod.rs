//! Training: optimizer settings, the learning-rate schedule, the step that runs a `train_step`
//! graph in ONNX Runtime and applies the fused host update, and the loops built on it (a
//! pretraining stage's step loop, a downstream stage's epoch loop, the skip-gram trainer of
//! static word vectors in `skipgram` with their intrinsic check).
mod epoch_checkpoint;
mod epochs;
mod inputs;
mod lr_scales;
mod progress;
mod schedule;
pub mod skipgram;
mod steps;
mod trainer;

pub use epochs::{
    EpochLoop, Fitted, PairFn, Scoring, SplitScoreFn, TagScoring, TestScores, fit_epochs,
    test_scores,
};
pub use inputs::StepInputs;
pub use lr_scales::LrScales;
pub use progress::{Progress, curve_every};
pub use schedule::{OptimSpec, OptimizerKind, Schedule, decays};
pub use steps::{StepLoop, StepLoopResult, dev_loss_accuracy, run_steps};
pub use trainer::{StepStats, Trainer, evaluate, init_params, session};
