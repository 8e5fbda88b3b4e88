//! Planning: `embedlab plan` and the process environment through the binary, the quickstart plan,
//! the stages the baseline and replicated pretraining add.
mod cli;
mod extra_stages;
mod quickstart;
