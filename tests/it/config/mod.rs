//! Experiment files: parsing, layering, and the messages for mistakes.
mod errors;
mod layers;
mod pack;
