//! Fuzzes validation and planning from a valid experiment: each line of the input is a
//! `--set KEY=VALUE` override on the tiny test experiment. Raw bytes (`parse_experiment`) mostly
//! stop at TOML syntax; overrides reach the schema, the cross-field rules, sweep expansion and
//! the planner with values of every type and size.
#![no_main]

use libfuzzer_sys::fuzz_target;

const BASE: &str = include_str!("../../tests/fixtures/e2e/tiny.toml");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let sets: Vec<String> = text.lines().take(16).map(str::to_string).collect();
    let files = [(std::path::PathBuf::from("fuzz/tiny.toml"), BASE.to_string())];
    match embedlab::config::load_str(&files, &sets, &[]) {
        Ok(loaded) => {
            let plan = embedlab::experiment::plan(&loaded);
            let _ = plan.render_text();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
