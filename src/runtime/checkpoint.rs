//! Checkpoints: a parameter store, optionally optimizer state and a small JSON metadata map, in one
//! safetensors file.
//!
//! Layout of the file:
//! - each parameter under its hierarchical name (`encoder.layer0.attn.q.weight`), f32;
//! - each optimizer buffer under `optimizer/<slot>/<parameter>` (parameter names never hold `/`);
//! - `__metadata__`: `format`, `params` (a JSON list of names in store order, since safetensors
//!   does not keep order), `optimizer.slots` and `optimizer.step` when present, and `meta` (the
//!   caller's JSON object: step, rng state, ...).
//!
//! Files are written to a temporary name in the same directory, synced and renamed, so a
//! checkpoint on disk is complete or absent. Loading checks names, dtypes and shapes and reports
//! every mismatch at once; [`load_params_into`] loads a selection (by name prefix) into an existing
//! store, which is how the first k layers of a pretrained encoder are transferred.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use super::error::{Result, RuntimeError};
use super::params::{OptState, ParamStore};
use crate::fsio::{self, WriteError};

/// The caller's metadata: a JSON object (step, rng state, ...).
pub type Metadata = serde_json::Map<String, serde_json::Value>;

const FORMAT: &str = "embedlab-checkpoint-1";
const OPT_PREFIX: &str = "optimizer/";

/// Everything a checkpoint file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    pub params: ParamStore,
    pub opt: Option<OptState>,
    pub meta: Metadata,
}

fn f32_bytes(data: &[f32]) -> Vec<u8> {
    data.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Writes `params` (and `opt`, and `meta`) to `path` atomically.
pub fn save_checkpoint(
    path: &Path,
    params: &ParamStore,
    opt: Option<&OptState>,
    meta: &Metadata,
) -> Result<()> {
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = params
        .iter()
        .map(|p| (p.name.to_string(), p.shape.to_vec(), f32_bytes(p.data)))
        .collect();
    let mut info = HashMap::new();
    info.insert("format".to_string(), FORMAT.to_string());
    info.insert(
        "params".to_string(),
        serde_json::to_string(&params.names().collect::<Vec<_>>()).unwrap_or_default(),
    );
    info.insert(
        "meta".to_string(),
        serde_json::Value::Object(meta.clone()).to_string(),
    );
    if let Some(opt) = opt {
        let slots: Vec<&str> = opt.slot_names().collect();
        info.insert(
            "optimizer.slots".to_string(),
            serde_json::to_string(&slots).unwrap_or_default(),
        );
        info.insert("optimizer.step".to_string(), opt.step.to_string());
        for slot in slots {
            let store = opt.slot(slot).expect("slot listed by slot_names");
            if !store.same_layout(params) {
                return Err(RuntimeError::checkpoint(
                    path,
                    format!("optimizer slot '{slot}' is not laid out like the parameters"),
                ));
            }
            for p in store.iter() {
                buffers.push((
                    format!("{OPT_PREFIX}{slot}/{}", p.name),
                    p.shape.to_vec(),
                    f32_bytes(p.data),
                ));
            }
        }
    }
    let views = buffers
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.as_str(), v))
                .map_err(|e| RuntimeError::checkpoint(path, format!("tensor '{name}': {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let bytes = safetensors::serialize(views, Some(info))
        .map_err(|e| RuntimeError::checkpoint(path, format!("serializing: {e}")))?;
    write_atomic(path, &bytes)
}

/// [`fsio::write_atomic`] with its errors as the runtime's (the same messages).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    fsio::write_atomic(path, bytes).map_err(|e| match e {
        WriteError::NotAFile { path } => RuntimeError::checkpoint(path, "not a file path"),
        WriteError::Io { path, source } => RuntimeError::io(path, source),
    })
}

/// A parsed checkpoint file, kept as bytes plus its index.
struct Parsed {
    path: PathBuf,
    bytes: Vec<u8>,
    info: HashMap<String, String>,
    /// Parameter names: from our metadata, or for a foreign file every tensor in file order.
    names: Vec<String>,
}

impl Parsed {
    /// Reads and indexes a file. `allow_foreign` accepts safetensors files other tools wrote
    /// (no embedlab metadata): every tensor in them counts as a parameter.
    fn read(path: &Path, allow_foreign: bool) -> Result<Parsed> {
        let bytes = fs::read(path).map_err(|e| RuntimeError::io(path, e))?;
        let (_, metadata) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| RuntimeError::checkpoint(path, format!("not a safetensors file: {e}")))?;
        let info = metadata.metadata().clone().unwrap_or_default();
        let ours = info.get("format").map(String::as_str) == Some(FORMAT);
        let foreign_ok = allow_foreign && !info.contains_key("format");
        if !ours && !foreign_ok {
            return Err(RuntimeError::checkpoint(
                path,
                format!(
                    "not an embedlab checkpoint (format {:?}, expected {FORMAT:?})",
                    info.get("format")
                ),
            ));
        }
        let mut parsed = Parsed {
            path: path.to_path_buf(),
            bytes,
            info,
            names: Vec::new(),
        };
        parsed.names = if ours {
            parsed.json_list("params")?
        } else {
            metadata.offset_keys()
        };
        Ok(parsed)
    }

    fn tensors(&self) -> Result<SafeTensors<'_>> {
        SafeTensors::deserialize(&self.bytes)
            .map_err(|e| RuntimeError::checkpoint(&self.path, format!("corrupt: {e}")))
    }

    fn json_list(&self, key: &str) -> Result<Vec<String>> {
        match self.info.get(key) {
            None => Ok(Vec::new()),
            Some(s) => serde_json::from_str(s).map_err(|e| {
                RuntimeError::checkpoint(
                    &self.path,
                    format!("metadata '{key}' is not a list of names: {e}"),
                )
            }),
        }
    }

    fn meta(&self) -> Result<Metadata> {
        match self.info.get("meta") {
            None => Ok(Metadata::new()),
            Some(s) => serde_json::from_str(s).map_err(|e| {
                RuntimeError::checkpoint(
                    &self.path,
                    format!("metadata 'meta' is not a JSON object: {e}"),
                )
            }),
        }
    }
}

/// Reads one tensor as f32 (F32 as is, F64 rounded); errors name the tensor.
fn read_f32(path: &Path, st: &SafeTensors<'_>, key: &str) -> Result<(Vec<usize>, Vec<f32>)> {
    let t = st
        .tensor(key)
        .map_err(|_| RuntimeError::checkpoint(path, format!("tensor '{key}' is missing")))?;
    let data = match t.dtype() {
        Dtype::F32 => t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        Dtype::F64 => t
            .data()
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
            .collect(),
        other => {
            return Err(RuntimeError::checkpoint(
                path,
                format!("tensor '{key}' is {other:?}, expected F32 or F64"),
            ));
        }
    };
    Ok((t.shape().to_vec(), data))
}

/// Reads a whole checkpoint: parameters in the order they were saved, optimizer state if saved,
/// and the metadata.
pub fn load_checkpoint(path: &Path) -> Result<Checkpoint> {
    let parsed = Parsed::read(path, false)?;
    let st = parsed.tensors()?;
    let names = parsed.names.clone();
    let mut params = ParamStore::new();
    for name in &names {
        let (shape, data) = read_f32(path, &st, name)?;
        params
            .insert(name.clone(), &shape, &data)
            .map_err(|e| RuntimeError::checkpoint(path, e.to_string()))?;
    }
    let slots = parsed.json_list("optimizer.slots")?;
    let opt = if parsed.info.contains_key("optimizer.slots") {
        let step = parsed
            .info
            .get("optimizer.step")
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| {
                RuntimeError::checkpoint(
                    path,
                    "metadata 'optimizer.step' is missing or not a number",
                )
            })?;
        let mut opt = OptState::default();
        opt.step = step;
        for slot in &slots {
            let mut store = params.zeros_like();
            for name in &names {
                let key = format!("{OPT_PREFIX}{slot}/{name}");
                let (shape, data) = read_f32(path, &st, &key)?;
                if Some(shape.as_slice()) != params.shape(name) {
                    return Err(RuntimeError::checkpoint(
                        path,
                        format!(
                            "tensor '{key}' has shape {shape:?}, its parameter {:?}",
                            params.shape(name).unwrap_or(&[])
                        ),
                    ));
                }
                store.set(name, &data)?;
            }
            opt.insert_slot(slot.clone(), store)
                .map_err(|e| RuntimeError::checkpoint(path, e.to_string()))?;
        }
        Some(opt)
    } else {
        None
    };
    let known = names.len() + slots.len() * names.len();
    if st.len() != known {
        let listed: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
        let extra: Vec<String> = st
            .names()
            .into_iter()
            .filter(|n| !listed.contains(n) && !n.starts_with(OPT_PREFIX))
            .map(str::to_string)
            .collect();
        return Err(RuntimeError::checkpoint(
            path,
            format!("tensors not listed in the metadata: {}", extra.join(", ")),
        ));
    }
    Ok(Checkpoint {
        params,
        opt,
        meta: parsed.meta()?,
    })
}

/// The parameter names and shapes a checkpoint holds, in saved order (no data is converted).
/// Also reads safetensors files other tools wrote (every tensor, in file order).
pub fn checkpoint_params(path: &Path) -> Result<Vec<(String, Vec<usize>)>> {
    let parsed = Parsed::read(path, true)?;
    let st = parsed.tensors()?;
    parsed
        .names
        .iter()
        .map(|n| {
            let t = st
                .tensor(n)
                .map_err(|_| RuntimeError::checkpoint(path, format!("tensor '{n}' is missing")))?;
            Ok((n.clone(), t.shape().to_vec()))
        })
        .collect()
}

/// Which parameters [`load_params_into`] loads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// Load only the store's parameters under these prefixes (`encoder.layer0` selects
    /// `encoder.layer0.*`, not `encoder.layer01.*`). Empty: every parameter of the store.
    pub prefixes: Vec<String>,
    /// Accept parameters in the file (within the selection) that the store does not have.
    pub allow_unused: bool,
}

/// Whether `name` is `prefix` or lies under it in the dotted hierarchy.
pub fn name_has_prefix(name: &str, prefix: &str) -> bool {
    let prefix = prefix.strip_suffix('.').unwrap_or(prefix);
    name == prefix || (name.starts_with(prefix) && name.as_bytes().get(prefix.len()) == Some(&b'.'))
}

/// What [`load_params_into`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Store parameters overwritten from the file, in store order.
    pub loaded: Vec<String>,
    /// File tensors that no loaded parameter used and that lie within the selection (only with
    /// `allow_unused`; with a name mapping, every file tensor no parameter used).
    pub unused: Vec<String>,
}

/// Overwrites the store's selected parameters with the checkpoint's. Every selected parameter
/// must be in the file with the same shape; all problems are reported in one error and nothing
/// is changed. Parameters outside the selection keep their values (e.g. freshly initialised upper
/// layers). Reads our checkpoints and plain safetensors files from other tools; F64 tensors are
/// rounded to f32.
pub fn load_params_into(
    path: &Path,
    store: &mut ParamStore,
    opts: &LoadOptions,
) -> Result<LoadReport> {
    load_params_mapped(path, store, opts, None::<fn(&str) -> String>)
}

/// [`load_params_into`] where the file's names differ from the store's: `file_key` gives, for a
/// store parameter name, the tensor name to read from the file (importing weights another tool
/// wrote, or renaming between model layouts).
pub fn load_params_mapped(
    path: &Path,
    store: &mut ParamStore,
    opts: &LoadOptions,
    file_key: Option<impl Fn(&str) -> String>,
) -> Result<LoadReport> {
    let parsed = Parsed::read(path, true)?;
    let st = parsed.tensors()?;
    let key_of = |n: &str| file_key.as_ref().map_or_else(|| n.to_string(), |f| f(n));
    let selected =
        |n: &str| opts.prefixes.is_empty() || opts.prefixes.iter().any(|p| name_has_prefix(n, p));

    let mut problems = Vec::new();
    for p in &opts.prefixes {
        if !store.names().any(|n| name_has_prefix(n, p)) {
            problems.push(format!("prefix '{p}' selects no parameter of the store"));
        }
    }
    let in_file: std::collections::HashSet<&str> =
        parsed.names.iter().map(String::as_str).collect();
    let wanted: Vec<(String, String)> = store
        .names()
        .filter(|n| selected(n))
        .map(|n| (n.to_string(), key_of(n)))
        .collect();
    for (name, key) in &wanted {
        let shown = if name == key {
            format!("'{name}'")
        } else {
            format!("'{name}' (file tensor '{key}')")
        };
        match st.tensor(key) {
            Err(_) => problems.push(format!("{shown} is missing from the checkpoint")),
            Ok(_) if !in_file.contains(key.as_str()) => {
                problems.push(format!("{shown} is missing from the checkpoint"))
            }
            Ok(t) => {
                let expected = store.shape(name).unwrap_or(&[]);
                if t.shape() != expected {
                    problems.push(format!(
                        "{shown} has shape {:?} in the checkpoint, the store expects {expected:?}",
                        t.shape()
                    ));
                } else if !matches!(t.dtype(), Dtype::F32 | Dtype::F64) {
                    problems.push(format!(
                        "{shown} is {:?} in the checkpoint, expected F32 or F64",
                        t.dtype()
                    ));
                }
            }
        }
    }
    let used: std::collections::HashSet<String> = store.names().map(key_of).collect();
    let unused: Vec<String> = parsed
        .names
        .iter()
        .filter(|n| !used.contains(n.as_str()) && (file_key.is_some() || selected(n)))
        .cloned()
        .collect();
    if !unused.is_empty() && !opts.allow_unused {
        problems.push(format!(
            "the store has no parameter for: {}",
            unused.join(", ")
        ));
    }
    if !problems.is_empty() {
        return Err(RuntimeError::checkpoint(
            path,
            format!("cannot load parameters:\n  - {}", problems.join("\n  - ")),
        ));
    }
    for (name, key) in &wanted {
        let (_, data) = read_f32(path, &st, key)?;
        store.set(name, &data)?;
    }
    Ok(LoadReport {
        loaded: wanted.into_iter().map(|(n, _)| n).collect(),
        unused,
    })
}
