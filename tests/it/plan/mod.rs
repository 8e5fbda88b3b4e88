//! Planning: `embedlab plan` and the process environment through the binary, the quickstart plan.
mod cli;
mod quickstart;
