//! Planning: `embedlab plan` and the process environment through the binary, the quickstart plan,
//! the stages the baseline and replicated pretraining add, the pinned stage keys, the cost model's
//! parameter count.
mod cli;
mod extra_stages;
mod keys;
mod params;
mod quickstart;
