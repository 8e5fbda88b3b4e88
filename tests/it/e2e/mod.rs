//! End to end: the real binary on tiny experiments, bad inputs, grids, shards, kills and resumes.
mod bad_inputs;
mod baseline;
mod grid;
mod kill_resume;
mod pretraining_variance;
mod run;
mod tasks;
