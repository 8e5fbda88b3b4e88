//! report (in progress)
mod rebuild;

pub use rebuild::rebuild;
