//! The setup steps of the bad-input cases that depend on the machine: file modes (which do not
//! stop root), a real library that is not ONNX Runtime, a fake old ONNX Runtime built with the C
//! compiler. `Err(reason)` skips the case, with a visible line.
use crate::external::{skip_here, skip_or_fail};
use std::path::Path;
use std::process::Command;

fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

pub(super) fn unreadable_data(dir: &Path, _: &mut Vec<(String, String)>) -> Result<(), String> {
    let file = dir.join("labeled.tsv");
    chmod(&file, 0o000);
    if std::fs::read(&file).is_ok() {
        chmod(&file, 0o644);
        return Err(not_as_root(
            "the case with unreadable data",
            "running as root: chmod 000 does not stop reads (data_path_is_a_directory covers unreadable data)",
        ));
    }
    Ok(())
}

pub(super) fn read_only_out(dir: &Path, _: &mut Vec<(String, String)>) -> Result<(), String> {
    let out = dir.join("ro");
    std::fs::create_dir(&out).unwrap();
    chmod(&out, 0o555);
    if std::fs::write(out.join("probe"), b"").is_ok() {
        let _ = std::fs::remove_file(out.join("probe"));
        return Err(not_as_root(
            "the case with a read-only results folder",
            "running as root: a mode 555 folder stays writable (output_under_a_regular_file covers this)",
        ));
    }
    Ok(())
}

/// A case's skip reason when file modes cannot stop the process (root, as CI runs): printed
/// visibly, and a skip also under `EMBEDLAB_REQUIRE_EXTERNAL=1`, since no install changes it and
/// another case covers the same message.
fn not_as_root(what: &str, why: &str) -> String {
    skip_here(what, why);
    why.to_string()
}

/// A case's skip reason when this machine lacks an outside tool: printed visibly, and a failure
/// under `EMBEDLAB_REQUIRE_EXTERNAL=1` (unlike the root-only skips above, which stay skips).
fn missing(what: &str, why: &str) -> String {
    skip_or_fail(what, why);
    why.to_string()
}

/// A real shared library that is not ONNX Runtime.
pub(super) fn other_library(_: &Path, env: &mut Vec<(String, String)>) -> Result<(), String> {
    let candidates = [
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
        "/lib64/libz.so.1",
        "/usr/lib/libz.so.1",
        "/lib/aarch64-linux-gnu/libz.so.1",
    ];
    let lib = candidates
        .iter()
        .find(|p| Path::new(p).exists())
        .ok_or_else(|| {
            missing(
                "the case with a library that is not ONNX Runtime",
                "no libz.so.1 on this machine",
            )
        })?;
    env.push(("ORT_DYLIB_PATH".into(), lib.to_string()));
    Ok(())
}

/// A library that looks like ONNX Runtime 1.10.0 (`OrtGetApiBase` and a version string, no
/// API), compiled with the system C compiler: an ONNX Runtime too old for this build.
pub(super) fn old_library(dir: &Path, env: &mut Vec<(String, String)>) -> Result<(), String> {
    let src = dir.join("fake_ort.c");
    std::fs::write(
        &src,
        "static const char *version(void) { return \"1.10.0\"; }\n\
         static const void *api(unsigned v) { (void)v; return 0; }\n\
         static const struct { const void *(*get_api)(unsigned); const char *(*get_version)(void); } base = { api, version };\n\
         const void *OrtGetApiBase(void) { return &base; }\n",
    )
    .unwrap();
    let lib = dir.join("libonnxruntime.so.1.10.0");
    let built = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .status();
    match built {
        Ok(s) if s.success() => {
            env.push(("ORT_DYLIB_PATH".into(), lib.to_str().unwrap().to_string()));
            Ok(())
        }
        _ => Err(missing(
            "the case with an old ONNX Runtime",
            "no C compiler (cc) to build a fake old ONNX Runtime",
        )),
    }
}
