//! The one place tests run the real binary (every spawn starts from [`command`]), and reading
//! the CSV it writes.
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// A command for the `embedlab` binary Cargo built for these tests. The test suite's own
/// `EMBEDLAB_REQUIRE_EXTERNAL` is not passed on: the binary would read it as an experiment key.
pub fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_embedlab"));
    cmd.env_remove(crate::external::REQUIRE_EXTERNAL);
    cmd
}

/// Runs `embedlab` with `args`: (exit code, stderr).
pub fn embedlab(args: &[&str]) -> (i32, String) {
    let out = command().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A CSV file as (headers, rows).
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (headers, rows)
}

/// The value of column `name` in `row`.
pub fn col<'a>(headers: &[String], row: &'a [String], name: &str) -> &'a str {
    let i = headers
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {headers:?}"));
    &row[i]
}

/// Runs `embedlab` with `args`, writing `stdin` to its standard input: (exit code, stdout, stderr).
pub fn embedlab_io(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = command()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        use std::io::Write;
        let mut input = input;
        input.write_all(text.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `embedlab` with `args` in the repository root, with no `EMBEDLAB_*` or `SLURM_ARRAY_*`
/// variable from the test's own environment and with `env` added.
pub fn embedlab_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = command();
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    for (key, _) in std::env::vars() {
        if key.starts_with("EMBEDLAB_") || key.starts_with("SLURM_ARRAY_") {
            cmd.env_remove(key);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("run embedlab")
}
