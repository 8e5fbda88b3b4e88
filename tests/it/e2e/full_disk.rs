//! A full disk: the results folder is on a small tmpfs (mounted for the test; that needs root,
//! which CI has) filled up to 64 KiB, so the tiny grid runs out of space in its first stages.
//! The failure names the results folder and the space, no partial stage is left in `.stages`,
//! and after the filler is deleted a rerun completes with the rows of a run that never lacked
//! space. Without dropout, so that a pretraining resumed from a checkpoint it wrote before the
//! disk filled is exactly an uninterrupted one.
use super::compare::{runs, stage_folders, temporaries};
use crate::cli::command;
use crate::external::skip_or_fail;
use std::path::{Path, PathBuf};
use std::process::Command;

const TINY: &str = "tests/fixtures/e2e/tiny.toml";
const FREE: u64 = 64 * 1024;

fn run(out: &Path) -> (bool, String) {
    let o = command()
        .args(["run", TINY, "--out", out.to_str().unwrap()])
        .args(["--set", "seeds=[1]", "--set", "encoder.dropout=0.0"])
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A tmpfs mounted for the test, unmounted when dropped.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, size: &str) -> Result<Mount, String> {
        let o = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !o.status.success() {
            return Err(format!(
                "mount -t tmpfs failed (the test needs root): {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
        }
        Ok(Mount(dir.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn available(path: &Path) -> u64 {
    let o = Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .last()
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn a_full_disk_fails_the_stage_clearly_and_a_rerun_after_freeing_space_completes() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let _mount = match Mount::tmpfs(&mnt, "1m") {
        Ok(m) => m,
        Err(why) => return skip_or_fail("the full-disk test", &why),
    };
    let reference = dir.path().join("reference");
    let (ok, err) = run(&reference);
    assert!(ok, "{err}");
    let filler = mnt.join("filler");
    std::fs::write(&filler, vec![0u8; (available(&mnt) - FREE) as usize]).unwrap();
    assert_eq!(available(&mnt), FREE);
    let out = mnt.join("results");

    let (ok, err) = run(&out);
    assert!(!ok, "the run should fail on a full disk\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    let stages = out.join(".stages");
    let line = err
        .lines()
        .find(|l| l.contains("failed: ") && l.contains("no space left"))
        .unwrap_or_else(|| panic!("no failure naming the full disk\n{err}"));
    assert!(
        line.contains(&format!(
            "no space left on the file system holding {}",
            stages.display()
        )) && line.contains("bytes it had written into")
            && line.contains("bytes are free"),
        "{line}"
    );
    // No partial stage: nothing temporary, and every stage folder there is complete.
    assert_eq!(temporaries(&out), Vec::<String>::new());
    assert!(stage_folders(&out).len() < 5, "{:?}", stage_folders(&out));
    let verify = command()
        .args(["verify", out.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );

    std::fs::remove_file(&filler).unwrap();
    let (ok, err) = run(&out);
    assert!(ok, "rerun after freeing space: {err}");
    assert_eq!(stage_folders(&out).len(), 5);
    assert_eq!(runs(&out), runs(&reference));
}
