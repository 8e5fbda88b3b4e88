//! ONNX Runtime sessions over our graphs' ModelProto bytes.
//!
//! A [`Session`] is created once per graph (creation optimises the graph and costs 0.1-0.4 s,
//! ARCHITECTURE §5) under a name that every error repeats. Inputs are [`Feeds`]: borrowed views over
//! the caller's buffers, handed to ONNX Runtime without a copy. Outputs are read by name as
//! borrowed slices ([`Outputs::f32`]...), converted to owned [`Tensor`](crate::graph::Tensor)s,
//! or taken as ORT-owned [`Value`]s that can be fed back into the next run without passing
//! through host vectors.
mod feeds;
mod options;
mod ort_session;
mod outputs;
mod value;

pub use feeds::{Feeds, TensorView};
pub use options::{OptimizationLevel, SessionOptions};
pub use ort_session::{IoInfo, Session};
pub use outputs::{OutputView, Outputs};
pub use value::Value;
