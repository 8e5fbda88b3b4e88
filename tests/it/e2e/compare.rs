//! Comparing the results of two runs of the same grid: runs.csv and summary.csv as maps from the
//! row's id to its columns, timing columns left out, and the stage folders of a results folder.
use std::collections::BTreeMap;
use std::path::Path;

/// Whether a runs.csv or summary.csv column holds a timing (`seconds`, `train_seconds`,
/// `pretrain_real_tokens_per_second`, their `_mean`/`_ci95`...), which differs between any two
/// runs.
pub fn is_timing(column: &str) -> bool {
    column.contains("seconds") || column.contains("per_second")
}

/// A CSV file as first-column value → (column, value) pairs, without the timing columns
/// ([`is_timing`]). Panics on a repeated id.
pub fn table(path: &Path) -> BTreeMap<String, Vec<(String, String)>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let mut rows = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let kept: Vec<(String, String)> = h
            .iter()
            .zip(rec.iter())
            .filter(|(c, _)| !is_timing(c))
            .map(|(c, v)| (c.clone(), v.to_string()))
            .collect();
        let id = rec[0].to_string();
        assert!(
            rows.insert(id.clone(), kept).is_none(),
            "{}: more than one row {id}",
            path.display()
        );
    }
    rows
}

/// runs.csv of the tiny experiment under `out`, every row ok.
pub fn runs(out: &Path) -> BTreeMap<String, Vec<(String, String)>> {
    let rows = table(&out.join("tiny/runs.csv"));
    for (id, cols) in &rows {
        let status = cols.iter().find(|(c, _)| c == "status").map(|(_, v)| v);
        assert_eq!(status.map(String::as_str), Some("ok"), "run {id}: {cols:?}");
    }
    rows
}

/// Names of the complete stage folders under `out/.stages` (no locks, temporaries, checkpoints).
pub fn stage_folders(out: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(out.join(".stages"))
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.contains('.'))
        .collect();
    names.sort();
    names
}

/// Entries of `out/.stages` left by unfinished work: temporary stage folders (`.tmp-`).
pub fn temporaries(out: &Path) -> Vec<String> {
    std::fs::read_dir(out.join(".stages"))
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.contains(".tmp-"))
                .collect()
        })
        .unwrap_or_default()
}

/// (stages run, stages reused) from the summary line a run prints last.
pub fn stage_counts(stderr: &str) -> (usize, usize) {
    let re = regex::Regex::new(r"stages: (\d+) run, (\d+) reused").unwrap();
    let c = re
        .captures_iter(stderr)
        .last()
        .unwrap_or_else(|| panic!("no summary line in\n{stderr}"));
    (c[1].parse().unwrap(), c[2].parse().unwrap())
}

/// Copies the folder `from` to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}
