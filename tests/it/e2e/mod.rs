//! End to end: the real binary on tiny experiments, bad inputs, grids, shards, kills and resumes.
mod bad_inputs;
mod grid;
mod kill_resume;
mod recipe;
mod run;
mod tasks;
