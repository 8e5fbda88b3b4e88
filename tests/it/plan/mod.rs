//! Planning: `embedlab plan` and the process environment through the binary, the quickstart plan,
//! the stages the baseline and replicated pretraining add, the pinned stage keys.
mod cli;
mod extra_stages;
mod keys;
mod quickstart;
