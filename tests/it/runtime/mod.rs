//! The runtime layer: library loading, sessions, the parameter store and checkpoints.
mod session;
mod store;
