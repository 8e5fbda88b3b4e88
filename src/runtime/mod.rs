//! The only user of `ort`: loading the ONNX Runtime library, sessions over our graphs' bytes with
//! borrowed inputs and outputs, the parameter store and optimizer state, checkpoints
//! (safetensors), and the fused host optimizer updates.
//!
//! A training step, as a trainer drives it:
//!
//! ```no_run
//! use embedlab::runtime::{AdamW, Feeds, Optimizer, ParamStore, Session, SessionOptions, StepOptions};
//! # fn step(model_bytes: &[u8], x: &[f32], params: &mut ParamStore) -> embedlab::runtime::Result<()> {
//! let mut session = Session::from_bytes("pretrain.A.train_step", model_bytes, &SessionOptions::default())?;
//! let optimizer = Optimizer::AdamW(AdamW::default());
//! let mut state = optimizer.state(params);
//! let mut feeds = Feeds::new();
//! feeds.f32("input", &[32, 64], x).params(params); // borrowed views, no copy
//! let out = session.run(&feeds)?;
//! drop(feeds);
//! let loss = out.scalar("loss")?;
//! optimizer.update(params, &mut state, &StepOptions::default(), |name| {
//!     out.f32(&format!("grad.{name}")).ok().map(|g| g.data) // borrowed from ONNX Runtime
//! })?;
//! # let _ = loss; Ok(()) }
//! ```
mod checkpoint;
mod error;
mod library;
mod optim;
mod params;
mod session;

pub use checkpoint::{
    Checkpoint, LoadOptions, LoadReport, Metadata, checkpoint_params, load_checkpoint,
    load_params_into, load_params_mapped, name_has_prefix, save_checkpoint,
};
pub use error::{LibraryAttempt, LibrarySource, Result, RuntimeError};
pub use library::{BUNDLED_LIBRARY, LibraryLookup, RuntimeInfo, init, runtime_info};
pub use optim::{
    AdamW, DEFAULT_THREADS, Optimizer, PARALLEL_MIN_LEN, Sgd, StepOptions, clip_factor,
    global_grad_norm,
};
pub use params::{OptState, ParamMut, ParamRef, ParamStore};
pub use session::{
    Feeds, IoInfo, OptimizationLevel, OutputView, Outputs, Session, SessionOptions, TensorView,
    Value,
};
