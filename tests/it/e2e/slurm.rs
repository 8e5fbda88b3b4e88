//! The README's Slurm array script under a real one-node Slurm cluster (slurmctld, slurmd,
//! munged; `scripts/slurm-cluster.sh start`, which `.ci/run` calls). The script is taken from the
//! README as printed there, with only its paths replaced (the binary, the experiment file, the
//! results folder), and submitted with `sbatch --array=0-3` (4 array tasks) for a grid of six
//! runs; after it, `embedlab report`, and runs.csv must equal a single-process run's. Then the
//! same with one array task cancelled (`scancel`) while it runs, and the array submitted again.
//! Prints `sinfo` and each array's task records (`scontrol show job`; the test cluster keeps no
//! accounting database for `sacct`).
use super::compare::{runs, temporaries};
use crate::cli::command;
use crate::external::skip_or_fail;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const README_LINE: &str = "srun embedlab run experiments/quickstart.toml --out /shared/results";
const TASKS: usize = 4;

/// The array script of the README's "On a cluster" section.
fn readme_script() -> String {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme
        .find("### On a cluster")
        .expect("README: On a cluster")..];
    let start = section.find("```bash\n").expect("README: a bash block") + "```bash\n".len();
    let end = start + section[start..].find("```").unwrap();
    section[start..end].to_string()
}

/// A command with no EMBEDLAB_* or SLURM_* variable of the test's own environment (sbatch
/// passes its environment on to the tasks, and embedlab reads EMBEDLAB_* as experiment keys).
fn clean(program: &str) -> Command {
    let mut cmd = Command::new(program);
    for (key, _) in std::env::vars() {
        if key.starts_with("EMBEDLAB_") || key.starts_with("SLURM_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

fn output(cmd: &mut Command) -> String {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        o.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn slurm_ready() -> Result<String, String> {
    let o = clean("sinfo").output().map_err(|e| {
        format!(
            "no sinfo ({e}); install and start a test cluster with scripts/slurm-cluster.sh start"
        )
    })?;
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    if !o.status.success() || !["idle", "mix", "alloc"].iter().any(|s| text.contains(s)) {
        return Err(format!(
            "no Slurm node up ({}{}); start one with scripts/slurm-cluster.sh start",
            text.trim(),
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    Ok(text)
}

/// Submits `script` as a 4-task array; returns the array's job id.
fn submit(script: &Path, dir: &Path) -> String {
    let id = output(
        clean("sbatch")
            .arg("--parsable")
            .arg(format!("--array=0-{}", TASKS - 1))
            .arg(format!("--output={}/slurm-%A_%a.out", dir.display()))
            // Submitted from the repository, as the single-process run (git_commit in runs.csv).
            .arg("--chdir")
            .arg(env!("CARGO_MANIFEST_DIR"))
            .arg(script),
    );
    id.trim().split(';').next().unwrap().to_string()
}

/// Waits until no task of array `job` is pending or running.
fn wait(job: &str) {
    let start = Instant::now();
    while !output(clean("squeue").args(["-h", "-j", job, "-o", "%i"]))
        .trim()
        .is_empty()
    {
        assert!(
            start.elapsed() < Duration::from_secs(600),
            "array {job} did not finish"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Each task's (array index, state), from the controller's records; printed.
fn task_states(job: &str) -> Vec<(String, String)> {
    let text = output(clean("scontrol").args(["-o", "show", "job", job]));
    let field = |line: &str, name: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .unwrap_or("")
            .to_string()
    };
    let mut states: Vec<(String, String)> = text
        .lines()
        .map(|l| (field(l, "ArrayTaskId"), field(l, "JobState")))
        .collect();
    states.sort();
    println!("array {job}:");
    for line in text.lines() {
        let keep: Vec<&str> = line
            .split_whitespace()
            .filter(|w| {
                [
                    "JobId=",
                    "ArrayJobId=",
                    "ArrayTaskId=",
                    "JobState=",
                    "ExitCode=",
                    "RunTime=",
                    "NumCPUs=",
                ]
                .iter()
                .any(|p| w.starts_with(p))
            })
            .collect();
        println!("  {}", keep.join(" "));
    }
    states
}

fn report(out: &Path) {
    let o = command()
        .args(["report", out.join("tiny").to_str().unwrap()])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// The README's script with its paths replaced, written to `dir/array.sh`.
fn script_for(dir: &Path, exp: &Path, out: &Path) -> PathBuf {
    let readme = readme_script();
    assert!(
        readme.contains(README_LINE),
        "README's array script changed:\n{readme}"
    );
    let line = format!(
        "srun {} run {} --out {}",
        env!("CARGO_BIN_EXE_embedlab"),
        exp.display(),
        out.display()
    );
    let path = dir.join("array.sh");
    std::fs::write(&path, readme.replace(README_LINE, &line)).unwrap();
    path
}

#[test]
fn the_readme_array_script_under_slurm_gives_the_single_process_rows_also_after_a_cancel() {
    let sinfo = match slurm_ready() {
        Ok(text) => text,
        Err(why) => return skip_or_fail("the Slurm array test", &why),
    };
    println!("sinfo:\n{sinfo}");
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    // The tiny experiment with its data at absolute paths and longer downstream training, so a
    // task is still running when it is cancelled.
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/e2e");
    let tiny = std::fs::read_to_string(fixtures.join("tiny.toml")).unwrap();
    let exp_text = tiny
        .replace(
            "\"corpus.txt\"",
            &format!("{:?}", fixtures.join("corpus.txt")),
        )
        .replace(
            "\"labeled.tsv\"",
            &format!("{:?}", fixtures.join("labeled.tsv")),
        )
        .replace("epochs = 3", "epochs = 20");
    assert_ne!(exp_text, tiny);
    let exp = dir.join("tiny.toml");
    std::fs::write(&exp, exp_text).unwrap();

    let single = dir.join("single");
    let o = command()
        .args([
            "run",
            exp.to_str().unwrap(),
            "--out",
            single.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let reference = runs(&single);
    assert_eq!(reference.len(), 6);

    // 1. The array as the README gives it.
    let started = Instant::now();
    let first = dir.join("first");
    let job = submit(&script_for(dir, &exp, &first), dir);
    wait(&job);
    let states = task_states(&job);
    assert_eq!(states.len(), TASKS, "{states:?}");
    assert!(states.iter().all(|(_, s)| s == "COMPLETED"), "{states:?}");
    report(&first);
    assert_eq!(runs(&first), reference);
    println!(
        "array of {TASKS} tasks: {:.1}s",
        started.elapsed().as_secs_f64()
    );

    // 2. One task cancelled while it runs, then the array submitted again.
    let second = dir.join("second");
    let script = script_for(dir, &exp, &second);
    let job = submit(&script, dir);
    let task = format!("{job}_1");
    let start = Instant::now();
    while output(clean("squeue").args(["-h", "-j", &task, "-o", "%T"])).trim() != "RUNNING" {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "task {task} never ran"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Cancel once its process has started work (the results folder exists).
    while !second.join(".stages").exists() && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    output(clean("scancel").arg(&task));
    wait(&job);
    let states = task_states(&job);
    assert!(
        states.iter().any(|(i, s)| i == "1" && s == "CANCELLED"),
        "{states:?}"
    );
    let rows = super::compare::table(&second.join("tiny/runs.csv"));
    assert!(
        rows.len() < 6,
        "the cancelled task had finished its runs: {rows:?}"
    );
    let job = submit(&script, dir);
    wait(&job);
    let states = task_states(&job);
    assert!(states.iter().all(|(_, s)| s == "COMPLETED"), "{states:?}");
    report(&second);
    assert_eq!(runs(&second), reference);
    assert_eq!(temporaries(&second), Vec::<String>::new());
    println!("sinfo after:\n{}", output(&mut clean("sinfo")));
}
