//! Fuzzes the experiment-file parser: any bytes in, a `Loaded` experiment or a `ConfigError`
//! out, never a panic. Valid inputs are planned too (keys, cost estimates, the text rendering),
//! since `embedlab plan` does that to whatever the parser accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match embedlab::config::parse(text, "fuzz/experiment.toml") {
        Ok(loaded) => {
            // Every error must render, and so must every plan.
            let plan = embedlab::experiment::plan(&loaded);
            let _ = plan.render_text();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
