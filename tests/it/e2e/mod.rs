//! End to end: the real binary on tiny experiments, bad inputs, grids, shards, kills and resumes,
//! damaged stages, a full disk and a one-node Slurm cluster.
mod bad_inputs;
mod baseline;
mod compare;
mod eight_shards;
mod finetune_resume;
mod full_disk;
mod grid;
mod kill_resume;
mod layers;
mod long_windows;
mod pretraining_variance;
mod recipe;
mod run;
mod slurm;
mod span;
mod split_files;
mod tasks;
mod truncation;
mod verified_stages;
