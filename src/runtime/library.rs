//! Finding and loading the ONNX Runtime shared library, and the one ONNX Runtime environment per
//! process.
//!
//! Lookup order (ARCHITECTURE §5):
//! 1. `ORT_DYLIB_PATH`. When set it is authoritative: if it does not load, that is the error, so a
//!    user who points at a library never silently gets another one.
//! 2. An installed `onnxruntime` Python package (`<pkg>/capi/libonnxruntime.so*`), found by asking
//!    `python3` (or `EMBEDLAB_PYTHON`) where the package lives, without importing it, under a
//!    short timeout.
//! 3. The copy the build script unpacked under `target/` (`EMBEDLAB_ORT_BUNDLED`, set at compile
//!    time).
//!
//! Each candidate is probed with `dlopen` and `OrtGetApiBase()->GetVersionString()` before `ort`
//! sees it, so a missing file, a file that is not a library and a too-old version all become one
//! [`RuntimeError::LibraryNotFound`] listing what was tried, never a panic inside `ort`.
//! Nothing is downloaded at run time. ONNX Runtime's own log level is `error` unless the `ORT_LOG`
//! environment variable says otherwise (`warning`, `info`, `verbose`).

use std::ffi::{CStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::error::{LibraryAttempt, LibrarySource, Result, RuntimeError};

/// The library path the build script provisioned (it may not exist when the build was offline).
pub const BUNDLED_LIBRARY: Option<&str> = option_env!("EMBEDLAB_ORT_BUNDLED");

/// How long the Python package lookup may take before it is abandoned.
pub const PYTHON_TIMEOUT: Duration = Duration::from_secs(5);

/// What was loaded: recorded in every run's provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeInfo {
    /// The library file, absolute.
    pub path: PathBuf,
    pub source: LibrarySource,
    /// ONNX Runtime's own version string, e.g. `1.32.0`.
    pub version: String,
}

/// The inputs of the library lookup, separated from the process environment so the lookup can be
/// tested without touching global state. [`LibraryLookup::from_env`] is what [`init`] uses.
#[derive(Debug, Clone)]
pub struct LibraryLookup {
    /// Value of `ORT_DYLIB_PATH`, when set and non-empty.
    pub dylib_path: Option<OsString>,
    /// The Python interpreter to ask for an `onnxruntime` package; `None` skips that step.
    pub python: Option<OsString>,
    /// The bundled library path; `None` skips that step.
    pub bundled: Option<PathBuf>,
    /// How long to wait for the Python interpreter.
    pub python_timeout: Duration,
}

impl Default for LibraryLookup {
    /// Skips every step; fill in the ones to try.
    fn default() -> Self {
        LibraryLookup {
            dylib_path: None,
            python: None,
            bundled: None,
            python_timeout: PYTHON_TIMEOUT,
        }
    }
}

impl LibraryLookup {
    /// The lookup the process environment asks for: `ORT_DYLIB_PATH`, `EMBEDLAB_PYTHON` (default
    /// `python3`) and the compile-time bundled path.
    pub fn from_env() -> LibraryLookup {
        LibraryLookup {
            dylib_path: std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty()),
            python: Some(std::env::var_os("EMBEDLAB_PYTHON").unwrap_or_else(|| "python3".into())),
            bundled: BUNDLED_LIBRARY.map(PathBuf::from),
            python_timeout: PYTHON_TIMEOUT,
        }
    }

    /// Finds the first candidate that loads and is new enough for `ort`, without initialising
    /// `ort`. The error lists every candidate tried and why it failed.
    pub fn locate(&self) -> Result<RuntimeInfo> {
        let mut attempts = Vec::new();
        if let Some(p) = &self.dylib_path {
            let path = PathBuf::from(p);
            return probe(&path, LibrarySource::EnvVar).map_err(|problem| {
                attempts.push(LibraryAttempt {
                    source: LibrarySource::EnvVar,
                    path: Some(path),
                    problem,
                });
                not_found(attempts)
            });
        }
        if let Some(python) = &self.python {
            match python_package_library(python, self.python_timeout) {
                Ok(path) => match probe(&path, LibrarySource::PythonPackage) {
                    Ok(info) => return Ok(info),
                    Err(problem) => attempts.push(LibraryAttempt {
                        source: LibrarySource::PythonPackage,
                        path: Some(path),
                        problem,
                    }),
                },
                Err(problem) => attempts.push(LibraryAttempt {
                    source: LibrarySource::PythonPackage,
                    path: None,
                    problem,
                }),
            }
        }
        match &self.bundled {
            Some(path) => match probe(path, LibrarySource::Bundled) {
                Ok(info) => return Ok(info),
                Err(problem) => attempts.push(LibraryAttempt {
                    source: LibrarySource::Bundled,
                    path: Some(path.clone()),
                    problem,
                }),
            },
            None => attempts.push(LibraryAttempt {
                source: LibrarySource::Bundled,
                path: None,
                problem: "the build script recorded no path".to_string(),
            }),
        }
        Err(not_found(attempts))
    }
}

fn not_found(attempts: Vec<LibraryAttempt>) -> RuntimeError {
    RuntimeError::LibraryNotFound {
        attempts,
        min_minor: ort::MINOR_VERSION,
    }
}

/// Loads `path` with `dlopen` and reads its version; the error says what is wrong with the file.
fn probe(path: &Path, source: LibrarySource) -> std::result::Result<RuntimeInfo, String> {
    if !path.exists() {
        return Err("no such file".to_string());
    }
    if !path.is_file() {
        return Err("not a file".to_string());
    }
    let path = std::fs::canonicalize(path).map_err(|e| e.to_string())?;
    // SAFETY: loading ONNX Runtime runs its static initialisers, which have no preconditions; the
    // handle is dropped after reading the version (ort loads it again, which only bumps the count).
    let lib = unsafe { libloading::Library::new(&path) }.map_err(|e| {
        // libloading's Display says only "dlopen failed"; the reason is in its source.
        let reason = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
        format!("not a loadable library ({reason})")
    })?;
    type GetApiBase = unsafe extern "C" fn() -> *const ort::sys::OrtApiBase;
    // SAFETY: `OrtGetApiBase` has this signature in every ONNX Runtime release.
    let get_base = unsafe { lib.get::<GetApiBase>(b"OrtGetApiBase") }
        .map_err(|_| "not an ONNX Runtime library (no OrtGetApiBase symbol)".to_string())?;
    // SAFETY: the function takes no arguments and returns a pointer to a static struct.
    let base = unsafe { get_base() };
    if base.is_null() {
        return Err("OrtGetApiBase returned null".to_string());
    }
    // SAFETY: `base` is non-null and points to ONNX Runtime's static OrtApiBase; the version
    // string is a static NUL-terminated string.
    let version = unsafe { CStr::from_ptr(((*base).GetVersionString)()) }
        .to_string_lossy()
        .into_owned();
    let minor = version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse::<u32>().ok());
    match minor {
        Some(m) if version.starts_with("1.") && m >= ort::MINOR_VERSION => {}
        _ => {
            return Err(format!(
                "ONNX Runtime {version} is too old or unrecognised; this build of embedlab needs >= 1.{}",
                ort::MINOR_VERSION
            ));
        }
    }
    Ok(RuntimeInfo {
        path,
        source,
        version,
    })
}

/// Asks `python` where the `onnxruntime` package is (without importing it, which is slow) and
/// returns its `capi/libonnxruntime.so*`.
fn python_package_library(
    python: &OsString,
    timeout: Duration,
) -> std::result::Result<PathBuf, String> {
    const SCRIPT: &str = "import importlib.util as u\n\
        s = u.find_spec('onnxruntime')\n\
        print(s.submodule_search_locations[0] if s and s.submodule_search_locations else '')";
    let mut child = Command::new(python)
        .args(["-c", SCRIPT])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("could not run {}: {e}", python.to_string_lossy()))?;
    let deadline = Instant::now() + timeout;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{} did not answer within {PYTHON_TIMEOUT:?}",
                    python.to_string_lossy()
                ));
            }
            Err(e) => return Err(format!("waiting for {}: {e}", python.to_string_lossy())),
        }
    }
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    let dir = String::from_utf8_lossy(&output.stdout).trim().to_string();
    if !output.status.success() || dir.is_empty() {
        return Err(format!(
            "{} has no onnxruntime package",
            python.to_string_lossy()
        ));
    }
    let capi = Path::new(&dir).join("capi");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&capi)
        .map_err(|e| format!("{}: {e}", capi.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_onnxruntime_library_name)
        })
        .collect();
    // Prefer the fully versioned name (the real file), then the shortest.
    found.sort_by_key(|p| (std::cmp::Reverse(p.as_os_str().len()), p.clone()));
    found
        .into_iter()
        .next()
        .ok_or_else(|| format!("{} holds no libonnxruntime.so*", capi.display()))
}

/// `libonnxruntime.so` or `libonnxruntime.so.1.32.0`, not `libonnxruntime_providers_*.so`.
fn is_onnxruntime_library_name(name: &str) -> bool {
    match name.strip_prefix("libonnxruntime.so") {
        Some("") => true,
        Some(rest) => rest
            .strip_prefix('.')
            .is_some_and(|v| v.split('.').all(|p| p.parse::<u32>().is_ok())),
        None => false,
    }
}

struct Runtime {
    env: ort::environment::Environment,
    info: RuntimeInfo,
}

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static INIT_LOCK: Mutex<()> = Mutex::new(());

/// Loads ONNX Runtime (see the module docs for the lookup order) and creates the process's one
/// environment. Idempotent and thread-safe: later calls return the first call's result. A failure
/// is not cached, so a caller may fix the environment and try again.
pub fn init() -> Result<&'static RuntimeInfo> {
    Ok(&runtime()?.info)
}

fn runtime() -> Result<&'static Runtime> {
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let _guard = INIT_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let info = LibraryLookup::from_env().locate()?;
    let env_error = |message: String| RuntimeError::Environment {
        path: info.path.clone(),
        message,
    };
    let builder = ort::init_from(&info.path).map_err(|e| env_error(e.to_string()))?;
    let env = builder
        .with_name("embedlab")
        .with_telemetry(false)
        .build()
        .map_err(|e| env_error(e.to_string()))?;
    Ok(RUNTIME.get_or_init(|| Runtime { env, info }))
}

/// What [`init`] loaded, if it has run successfully.
pub fn runtime_info() -> Option<&'static RuntimeInfo> {
    RUNTIME.get().map(|rt| &rt.info)
}

/// The environment, initialising on first use.
pub(crate) fn environment() -> Result<&'static ort::environment::Environment> {
    Ok(&runtime()?.env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_names() {
        assert!(is_onnxruntime_library_name("libonnxruntime.so"));
        assert!(is_onnxruntime_library_name("libonnxruntime.so.1.32.0"));
        assert!(!is_onnxruntime_library_name(
            "libonnxruntime_providers_shared.so"
        ));
        assert!(!is_onnxruntime_library_name(
            "libonnxruntime.so.1.32.0.partial-12"
        ));
    }
}
