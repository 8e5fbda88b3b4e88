//! `embedlab graph` writes the graphs a stage trains: for a pretraining stage of every task and a
//! downstream stage of every task under every transfer mode, the ONNX bytes it writes equal those
//! the stage built during a real run (`EMBEDLAB_DUMP_GRAPHS`), both when the upstream stages are
//! read from the results folder and when the command computes them itself.
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/e2e")
        .join(name)
}

/// Runs the binary with `args` (and `EMBEDLAB_DUMP_GRAPHS=dump` when given): (code, stdout, stderr).
fn embedlab(args: &[&str], dump: Option<&Path>) -> (i32, String, String) {
    let mut cmd = crate::cli::command();
    cmd.args(args).env_remove("EMBEDLAB_DUMP_GRAPHS");
    if let Some(d) = dump {
        cmd.env("EMBEDLAB_DUMP_GRAPHS", d);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The `.onnx` files of a folder by name, with their bytes.
fn graphs_in(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "onnx"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    v.sort();
    v
}

/// Runs `files` (one seed, one cell) dumping the stages' graphs, then asks `embedlab graph` for
/// each stage twice (upstream stages read from the results, and computed afresh) and compares.
fn check_graphs(files: &[PathBuf], stages: &[&str], roles: &[&[&str]]) {
    let dir = tempfile::tempdir().unwrap();
    let (out, dump) = (dir.path().join("out"), dir.path().join("dump"));
    let mut args = vec!["run".to_string()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    args.extend(["--out".into(), out.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, err) = embedlab(&args, Some(&dump));
    assert_eq!(code, 0, "{err}");
    let trained = graphs_in(&dump);
    for (stage, roles) in stages.iter().zip(roles) {
        let stem = stage.replace('.', "_");
        let expected: Vec<&(String, Vec<u8>)> = trained
            .iter()
            .filter(|(n, _)| n.starts_with(&format!("{stem}.")))
            .collect();
        let names: Vec<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
        let want: Vec<String> = roles.iter().map(|r| format!("{stem}.{r}.onnx")).collect();
        let mut want_sorted = want.clone();
        want_sorted.sort();
        assert_eq!(names, want_sorted, "{stage}: the graphs the stage trained");
        for (i, results) in [out.clone(), dir.path().join("no-results")]
            .iter()
            .enumerate()
        {
            let written = dir.path().join(format!("graph-{stem}-{i}"));
            let mut g: Vec<String> = vec!["graph".into()];
            g.extend(files.iter().map(|f| f.display().to_string()));
            g.extend([
                "--stage".into(),
                stage.to_string(),
                "--out".into(),
                written.display().to_string(),
                "--results".into(),
                results.display().to_string(),
            ]);
            let g: Vec<&str> = g.iter().map(String::as_str).collect();
            let (code, stdout, err) = embedlab(&g, None);
            assert_eq!(code, 0, "{stage}: {err}");
            assert_eq!(stdout.lines().count(), roles.len(), "{stdout}");
            let got = graphs_in(&written);
            assert_eq!(got.len(), expected.len(), "{stage}");
            for ((gn, gb), (en, eb)) in got.iter().zip(&expected) {
                assert_eq!(gn, en);
                assert!(
                    gb == eb,
                    "{stage}: {gn} differs from the graph the stage trained"
                );
            }
        }
    }
}

fn override_file(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("override.toml");
    std::fs::write(&p, text).unwrap();
    p
}

const TRAIN: &[&str] = &["train_step", "eval"];
const FEATURES: &[&str] = &["features", "head_train_step", "head_eval"];

#[test]
fn graph_writes_what_each_pretraining_task_trains() {
    for (task, data) in [
        ("mlm", "text"),
        ("clm", "text"),
        ("nsp", "text"),
        ("sop", "text"),
        ("classify", "words"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        // A causal (clm) encoder pools at its last token: [CLS] sees only itself there.
        let pooling = if task == "clm" { "last" } else { "cls" };
        let over = override_file(
            dir.path(),
            &format!(
                "seeds = [1]\n[pretrain.A]\ntask = \"{task}\"\ndata = \"{data}\"\n[downstream.C]\npooling = \"{pooling}\"\n[sweep]\n\"downstream.C.transfer\" = [\"finetune\"]\n"
            ),
        );
        check_graphs(
            &[fixture("tiny.toml"), over],
            &["pretrain.A", "downstream.C"],
            &[TRAIN, TRAIN],
        );
    }
}

#[test]
fn graph_writes_what_each_downstream_task_trains_under_every_transfer_mode() {
    for (task, file, columns) in [
        ("classify", "labeled.tsv", ""),
        (
            "pair",
            "pairs.tsv",
            "text_pair = \"text_pair\"\n[embeddings]\nsegment = true\n",
        ),
        ("tag", "tags.tsv", ""),
    ] {
        for (transfer, layers, roles) in [
            ("scratch", "\"all\"", TRAIN),
            ("frozen", "\"all\"", FEATURES),
            ("frozen", "1", TRAIN),
            ("finetune", "1", TRAIN),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let over = override_file(
                dir.path(),
                &format!(
                    "seeds = [1]\n[dataset.d]\npath = \"{}\"\nsplit = \"split\"\n{columns}[downstream.C]\ntask = \"{task}\"\ndata = \"d\"\npooling = \"mean\"\nlayers = {layers}\n[sweep]\n\"downstream.C.transfer\" = [\"{transfer}\"]\n",
                    fixture(file).display()
                ),
            );
            let stages: &[&str] = if transfer == "scratch" {
                &["downstream.C"]
            } else {
                &["pretrain.A", "downstream.C"]
            };
            let all_roles: &[&[&str]] = if transfer == "scratch" {
                &[roles]
            } else {
                &[TRAIN, roles]
            };
            check_graphs(&[fixture("tiny.toml"), over], stages, all_roles);
        }
    }
}
