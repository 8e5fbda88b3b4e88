//! A stage's manifest: `manifest.json` in a stage folder lists every other file there with its
//! size and sha256. It is written as the last step of the stage's commit (before the rename into
//! place), so a folder under `.stages/<key>` whose files do not match it was damaged afterwards
//! (a full disk, an interrupted copy, a bad network file system, a hand edit). Like a
//! content-addressed store, a stage is checked against its manifest before it is reused; a
//! damaged one is never loaded (ARCHITECTURE §2).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The manifest's file name inside a stage folder.
pub const MANIFEST: &str = "manifest.json";
/// The format tag written into every manifest.
const FORMAT: &str = "embedlab-stage-manifest/1";

/// What `manifest.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    /// The stage's content key (the folder's name).
    pub key: String,
    /// Every file of the stage but the manifest, sorted by path.
    pub files: Vec<FileEntry>,
}

/// One file of a stage: its path relative to the stage folder (`/`-separated), size and sha256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// How a stage folder fails to match its manifest; each names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum Damage {
    #[error("{MANIFEST} is missing (an unfinished copy, or made before stages had manifests)")]
    NoManifest,
    #[error("{MANIFEST} is unreadable: {reason}")]
    BadManifest { reason: String },
    #[error("{MANIFEST} is for stage {found}, not this one")]
    WrongKey { found: String },
    #[error("{file}: listed in {MANIFEST} but missing")]
    Missing { file: String },
    #[error("{file}: {found} bytes, {MANIFEST} says {expected}")]
    Size {
        file: String,
        expected: u64,
        found: u64,
    },
    #[error("{file}: content differs from {MANIFEST} (sha256 {found}, expected {expected})")]
    Digest {
        file: String,
        expected: String,
        found: String,
    },
    #[error("{file}: not listed in {MANIFEST}")]
    Unlisted { file: String },
    #[error("{file}: cannot be read: {source}")]
    Unreadable {
        file: String,
        #[source]
        source: std::io::Error,
    },
}

impl Damage {
    /// The file the damage is in.
    pub fn file(&self) -> &str {
        match self {
            Damage::NoManifest | Damage::BadManifest { .. } | Damage::WrongKey { .. } => MANIFEST,
            Damage::Missing { file }
            | Damage::Size { file, .. }
            | Damage::Digest { file, .. }
            | Damage::Unlisted { file }
            | Damage::Unreadable { file, .. } => file,
        }
    }
}

/// Why a manifest could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Write(#[from] crate::fsio::WriteError),
}

/// The files under `dir` (recursively, the manifest left out) as sorted `/`-separated paths.
fn list_files(dir: &Path) -> Result<Vec<String>, (String, std::io::Error)> {
    fn walk(root: &Path, rel: &str, out: &mut Vec<String>) -> Result<(), (String, std::io::Error)> {
        let here = if rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(rel)
        };
        let entries = std::fs::read_dir(&here).map_err(|e| (rel.to_string(), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| (rel.to_string(), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let kind = entry.file_type().map_err(|e| (path.clone(), e))?;
            if kind.is_dir() {
                walk(root, &path, out)?;
            } else if path != MANIFEST {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, "", &mut files)?;
    files.sort();
    Ok(files)
}

/// Size and sha256 of a file, read in blocks; with `sync`, the file is flushed to disk too.
fn digest(path: &Path, sync: bool) -> std::io::Result<(u64, String)> {
    let mut file = std::fs::File::open(path)?;
    if sync {
        file.sync_all()?;
    }
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// Hashes every file of the stage folder `dir` (syncing each to disk) and writes its
/// `manifest.json` atomically. Called last, before the folder is renamed into place.
pub fn write_manifest(dir: &Path, key: &str) -> Result<Manifest, ManifestError> {
    let files = list_files(dir).map_err(|(rel, source)| ManifestError::Io {
        path: dir.join(rel),
        source,
    })?;
    let mut entries = Vec::with_capacity(files.len());
    for path in files {
        let full = dir.join(&path);
        let (size, sha256) = digest(&full, true).map_err(|source| ManifestError::Io {
            path: full.clone(),
            source,
        })?;
        entries.push(FileEntry { path, size, sha256 });
    }
    let manifest = Manifest {
        format: FORMAT.to_string(),
        key: key.to_string(),
        files: entries,
    };
    let bytes = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    crate::fsio::write_atomic(&dir.join(MANIFEST), &bytes)?;
    Ok(manifest)
}

/// Checks the stage folder `dir` of stage `key` against its manifest: every listed file present
/// with its size and sha256, no other file. Sizes are compared before any file is hashed. Returns
/// the first damage found.
pub fn verify_stage(dir: &Path, key: &str) -> Result<Manifest, Damage> {
    let bytes = match std::fs::read(dir.join(MANIFEST)) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Damage::NoManifest),
        Err(source) => {
            return Err(Damage::Unreadable {
                file: MANIFEST.into(),
                source,
            });
        }
    };
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| Damage::BadManifest {
        reason: e.to_string(),
    })?;
    if manifest.format != FORMAT {
        return Err(Damage::BadManifest {
            reason: format!("format {:?}, expected {FORMAT:?}", manifest.format),
        });
    }
    if manifest.key != key {
        return Err(Damage::WrongKey {
            found: manifest.key,
        });
    }
    let present = list_files(dir).map_err(|(file, source)| Damage::Unreadable { file, source })?;
    for entry in &manifest.files {
        let meta = match std::fs::metadata(dir.join(&entry.path)) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Damage::Missing {
                    file: entry.path.clone(),
                });
            }
            Err(source) => {
                return Err(Damage::Unreadable {
                    file: entry.path.clone(),
                    source,
                });
            }
        };
        if meta.len() != entry.size {
            return Err(Damage::Size {
                file: entry.path.clone(),
                expected: entry.size,
                found: meta.len(),
            });
        }
    }
    if let Some(extra) = present
        .iter()
        .find(|p| !manifest.files.iter().any(|e| &e.path == *p))
    {
        return Err(Damage::Unlisted {
            file: extra.clone(),
        });
    }
    for entry in &manifest.files {
        let (_, sha256) =
            digest(&dir.join(&entry.path), false).map_err(|source| Damage::Unreadable {
                file: entry.path.clone(),
                source,
            })?;
        if sha256 != entry.sha256 {
            return Err(Damage::Digest {
                file: entry.path.clone(),
                expected: entry.sha256.clone(),
                found: sha256,
            });
        }
    }
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("params.safetensors"), b"0123456789").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/x.json"), b"{}").unwrap();
        write_manifest(dir.path(), "k1").unwrap();
        dir
    }

    #[test]
    fn an_intact_stage_verifies_and_lists_its_files() {
        let dir = stage();
        let m = verify_stage(dir.path(), "k1").unwrap();
        let paths: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["params.safetensors", "sub/x.json"]);
        assert_eq!(m.files[0].size, 10);
    }

    #[test]
    fn each_kind_of_damage_is_found_and_names_its_file() {
        type Harm = fn(&Path);
        let cases: [(&str, Harm, &str); 7] = [
            (
                "truncated",
                |d| std::fs::write(d.join("params.safetensors"), b"0123").unwrap(),
                "params.safetensors: 4 bytes",
            ),
            (
                "flipped",
                |d| std::fs::write(d.join("params.safetensors"), b"0123456788").unwrap(),
                "params.safetensors: content differs",
            ),
            (
                "missing",
                |d| std::fs::remove_file(d.join("sub/x.json")).unwrap(),
                "sub/x.json: listed in manifest.json but missing",
            ),
            (
                "extra",
                |d| std::fs::write(d.join("stray"), b"").unwrap(),
                "stray: not listed",
            ),
            (
                "no manifest",
                |d| std::fs::remove_file(d.join(MANIFEST)).unwrap(),
                "manifest.json is missing",
            ),
            (
                "empty manifest",
                |d| std::fs::write(d.join(MANIFEST), b"").unwrap(),
                "manifest.json is unreadable",
            ),
            (
                "other key",
                |d| {
                    let text = std::fs::read_to_string(d.join(MANIFEST)).unwrap();
                    std::fs::write(d.join(MANIFEST), text.replace("\"k1\"", "\"k2\"")).unwrap()
                },
                "for stage k2",
            ),
        ];
        for (name, harm, expected) in cases {
            let dir = stage();
            harm(dir.path());
            let damage = verify_stage(dir.path(), "k1").expect_err(name);
            assert!(
                damage.to_string().contains(expected),
                "{name}: {damage} (expected {expected:?})"
            );
        }
    }
}
