//! The experiment input every experiment command reads: files, `--set` overrides and the
//! process environment, loaded and planned; its warnings go to stderr.

use super::cli::InputArgs;
use super::failure::{Failure, invalid};
use embedlab::config::LoadOptions;
use embedlab::experiment::{Plan, plan_files};

/// The plan of the experiment the arguments name; a loading or planning error is invalid input.
pub fn load_plan(input: &InputArgs) -> Result<Plan, Failure> {
    let options = LoadOptions {
        files: input.files.clone(),
        sets: input.sets.clone(),
        env: process_env(),
    };
    let plan = plan_files(&options).map_err(invalid)?;
    for warning in &plan.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(plan)
}

/// The process environment; variables that are not Unicode cannot be experiment keys and are skipped.
fn process_env() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}
