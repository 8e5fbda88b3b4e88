//! Atomic file writes: a file on disk is either its old content or its complete new content,
//! never a partial write (checkpoints, runs.csv, report.md). A leaf: depends on nothing of ours.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why an atomic write failed, with the path it was writing.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The path names no file (it ends in `..` or is a root).
    #[error("{}: not a file path", .path.display())]
    NotAFile { path: PathBuf },

    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Writes `bytes` to a temporary file beside `path` (creating the directory if needed), syncs it
/// and renames it over `path`. On any failure the temporary file is removed and `path` is left as
/// it was.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let file_name = path
        .file_name()
        .ok_or_else(|| WriteError::NotAFile {
            path: path.to_path_buf(),
        })?
        .to_string_lossy()
        .into_owned();
    let tmp = path.with_file_name(format!(
        ".{file_name}.tmp-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let result = (|| -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        // Make the rename itself durable; best effort (not every file system allows it).
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = fs::File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    result.map_err(|source| {
        let _ = fs::remove_file(&tmp);
        WriteError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Bytes available to this user on the file system holding `path` (its nearest existing
/// ancestor), if the system says.
pub fn available_space(path: &Path) -> Option<u64> {
    let existing = path.ancestors().find(|p| p.exists())?;
    let st = rustix::fs::statvfs(existing).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Whether an error, or one of its sources, is an I/O error saying the device is full (ENOSPC)
/// or the disk quota is exceeded. Errors that keep only the text of an I/O error are recognised
/// by it ("No space left on device").
pub fn is_storage_full(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && matches!(
                io.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            )
        {
            return true;
        }
        let text = e.to_string();
        if text.contains("No space left on device") || text.contains("Disk quota exceeded") {
            return true;
        }
        cur = e.source();
    }
    false
}

/// Sizes of the files under `dir`, summed (0 when it cannot be read).
pub fn tree_size(dir: &Path) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => tree_size(&e.path()),
            Ok(_) => e.metadata().map_or(0, |m| m.len()),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_device_is_recognised_through_wrappers() {
        let full = std::io::Error::from_raw_os_error(28);
        assert!(is_storage_full(&full));
        let wrapped = WriteError::Io {
            path: PathBuf::from("x"),
            source: std::io::Error::from_raw_os_error(28),
        };
        assert!(is_storage_full(&wrapped));
        let other = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(!is_storage_full(&other));
    }

    #[test]
    fn space_is_reported_for_a_path_not_yet_made() {
        let dir = tempfile::tempdir().unwrap();
        assert!(available_space(&dir.path().join("a/b")).is_some_and(|n| n > 0));
        std::fs::write(dir.path().join("f"), [0u8; 100]).unwrap();
        assert_eq!(tree_size(dir.path()), 100);
    }
}
