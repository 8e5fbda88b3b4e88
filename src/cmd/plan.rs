//! `embedlab plan`, `embedlab graph` and `embedlab schema`: what an experiment file plans,
//! builds and may hold, without running anything.

use super::cli::{GraphArgs, PlanArgs};
use super::experiment::load_plan;
use super::failure::{Failure, fail, invalid};
use super::stdout::print_stdout;

/// The plan as text (with its data and truncation sections) or as JSON.
pub fn plan(args: PlanArgs) -> Result<(), Failure> {
    let mut plan = load_plan(&args.input)?;
    plan.mark_cached(&args.out);
    if args.json {
        let text = serde_json::to_string_pretty(&plan)
            .map_err(|e| fail(format!("cannot write the plan as JSON: {e}")))?;
        return print_stdout(&(text + "\n"));
    }
    let data = embedlab::experiment::data_report(&plan)
        .map_err(|e| e.to_string())
        .and_then(|data| {
            embedlab::experiment::truncation_report(&plan, &args.out).map(|t| data + &t)
        })
        .map_err(invalid)?;
    let mut text = plan.render_text();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    print_stdout(&(text + &data))
}

/// A stage's ONNX graphs into a folder, one path per line.
pub fn graph(args: GraphArgs) -> Result<(), Failure> {
    let plan = load_plan(&args.input)?;
    let files =
        embedlab::experiment::write_stage_graphs(&plan, &args.stage, &args.out, &args.results)
            .map_err(|e| invalid(format!("{e:#}")))?;
    for f in files {
        println!("{}", f.display());
    }
    Ok(())
}

/// The JSON Schema of the experiment file.
pub fn schema() -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(&embedlab::config::json_schema()).map_err(fail)?;
    print_stdout(&(text + "\n"))
}
