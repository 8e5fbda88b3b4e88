//! The layers of input (experiment files, `EMBEDLAB_*` environment, `--set` arguments), each turned
//! into a figment provider, and the reverse lookup from a key path to the layer and position that
//! set it.
//!
//! figment merges the layers but keeps no line numbers, so every file is also parsed with
//! `toml::de::DeTable`, whose keys and values carry byte spans; [`Sources::locate`] walks those
//! to turn an error's key path into `file:line:col`.

use super::error::{ConfigError, Origin};
use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};

/// Prefix of the environment variables that override experiment keys.
pub const ENV_PREFIX: &str = "EMBEDLAB_";
/// `EMBEDLAB_*` variables that configure the tool itself (library provisioning, graph dumps,
/// the test suite), not the experiment; the loader passes over them.
pub const ENV_NOT_KEYS: &[&str] = &[
    "EMBEDLAB_ORT_BUNDLED",
    "EMBEDLAB_SKIP_ORT_DOWNLOAD",
    "EMBEDLAB_PYTHON",
    "EMBEDLAB_LOG",
    "EMBEDLAB_DUMP_GRAPHS",
    "EMBEDLAB_REQUIRE_EXTERNAL",
    "EMBEDLAB_UPDATE_DOCS",
    "EMBEDLAB_NO_FUSION",
];
/// Separator of key segments in environment variable names (`EMBEDLAB_ENCODER__DEPTH`).
pub const ENV_SEPARATOR: &str = "__";
/// Top-level tables whose second segment is a user-chosen name (kept in its case from the environment).
const NAMED_TABLES: [&str; 4] = ["corpus", "dataset", "pretrain", "downstream"];

/// Spans of one TOML value and, for tables and arrays, of its children.
#[derive(Debug, Clone, Default)]
pub struct SpanNode {
    pub key: Range<usize>,
    pub value: Range<usize>,
    pub children: BTreeMap<String, SpanNode>,
    pub items: Vec<SpanNode>,
}

impl SpanNode {
    fn from_table(table: &DeTable<'_>, key: Range<usize>, value: Range<usize>) -> SpanNode {
        let mut node = SpanNode {
            key,
            value,
            ..SpanNode::default()
        };
        for (k, v) in table.iter() {
            let child = SpanNode::from_value(v.get_ref(), k.span(), v.span());
            node.children.insert(k.get_ref().to_string(), child);
        }
        node
    }

    fn from_value(value: &DeValue<'_>, key: Range<usize>, span: Range<usize>) -> SpanNode {
        match value {
            DeValue::Table(t) => SpanNode::from_table(t, key, span),
            DeValue::Array(a) => {
                let items = a
                    .iter()
                    .map(|item| SpanNode::from_value(item.get_ref(), item.span(), item.span()))
                    .collect();
                SpanNode {
                    key,
                    value: span,
                    items,
                    ..SpanNode::default()
                }
            }
            _ => SpanNode {
                key,
                value: span,
                ..SpanNode::default()
            },
        }
    }

    /// The node at `path`, or the deepest node on the way and how many segments matched.
    pub fn deepest<S: AsRef<str>>(&self, path: &[S]) -> (usize, &SpanNode) {
        let mut node = self;
        for (depth, seg) in path.iter().enumerate() {
            let seg = seg.as_ref();
            // Array items appear in error paths as their index.
            let item = || seg.parse::<usize>().ok().and_then(|i| node.items.get(i));
            match node.children.get(seg).or_else(item) {
                Some(child) => node = child,
                None => return (depth, node),
            }
        }
        (path.len(), node)
    }
}

/// One experiment file: its text, its parsed table and the spans of its keys.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as given (for messages).
    pub path: PathBuf,
    /// The absolute directory relative data paths resolve against.
    pub dir: PathBuf,
    pub text: String,
    pub table: toml::Table,
    pub spans: SpanNode,
}

impl SourceFile {
    pub fn read(path: &Path) -> Result<SourceFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        SourceFile::from_text(path, text)
    }

    pub fn from_text(path: &Path, text: String) -> Result<SourceFile, ConfigError> {
        let spanned = DeTable::parse(&text).map_err(|e| ConfigError::Syntax {
            at: Origin::File {
                path: path.to_path_buf(),
                pos: e.span().map(|s| line_col(&text, s.start)),
            }
            .into(),
            message: e.message().trim().to_string(),
        })?;
        let spans = SpanNode::from_table(spanned.get_ref(), 0..0, spanned.span());
        let table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Syntax {
            at: Origin::File {
                path: path.to_path_buf(),
                pos: e.span().map(|s| line_col(&text, s.start)),
            }
            .into(),
            message: e.message().trim().to_string(),
        })?;
        let dir = absolute(path.parent().unwrap_or(Path::new("")));
        Ok(SourceFile {
            path: path.to_path_buf(),
            dir,
            text,
            table,
            spans,
        })
    }

    fn origin_at(&self, offset: usize) -> Origin {
        Origin::File {
            path: self.path.clone(),
            pos: Some(line_col(&self.text, offset)),
        }
    }
}

/// An override layer above the files: one environment variable or `--set` argument.
#[derive(Debug, Clone)]
pub struct Override {
    pub origin: Origin,
    /// The nested value it sets, rooted at the top of the experiment.
    pub value: Dict,
}

/// Everything the experiment was read from, lowest precedence first.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    pub files: Vec<SourceFile>,
    pub env: Vec<Override>,
    pub sets: Vec<Override>,
}

/// Which part of a key to point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    Key,
    Value,
}

impl Sources {
    /// The figment providers, lowest precedence first.
    pub fn providers(&self) -> Vec<Layer> {
        let mut layers = Vec::new();
        for file in &self.files {
            let dict = match Value::serialize(&file.table) {
                Ok(Value::Dict(_, d)) => d,
                _ => Dict::new(),
            };
            layers.push(Layer {
                name: file.path.display().to_string(),
                source: Some(figment::Source::File(file.path.clone())),
                dict,
            });
        }
        for o in self.env.iter().chain(&self.sets) {
            layers.push(Layer {
                name: o.origin.to_string(),
                source: None,
                dict: o.value.clone(),
            });
        }
        layers
    }

    /// Where the value at `path` came from: the highest-precedence layer that sets the whole path,
    /// else the one that sets the longest prefix of it (a table header for a missing key).
    pub fn locate<S: AsRef<str>>(&self, path: &[S], point: Point) -> Origin {
        let mut best: Option<(usize, Origin)> = None;
        let mut consider = |depth: usize, origin: Origin| {
            if best.as_ref().is_none_or(|(d, _)| depth > *d) {
                best = Some((depth, origin));
            }
        };
        // Highest precedence first, so that ties keep the layer that wins the merge.
        for o in self.sets.iter().rev().chain(self.env.iter().rev()) {
            let depth = dict_depth(&o.value, path);
            if depth > 0 {
                consider(depth, o.origin.clone());
            }
        }
        for file in self.files.iter().rev() {
            let (depth, node) = file.spans.deepest(path);
            if depth == 0 {
                continue;
            }
            let offset = if depth == path.len() && point == Point::Value {
                node.value.start
            } else {
                node.key.start
            };
            consider(depth, file.origin_at(offset));
        }
        match best {
            Some((_, origin)) => origin,
            None => match self.files.first() {
                Some(f) => Origin::File {
                    path: f.path.clone(),
                    pos: None,
                },
                None => Origin::Default,
            },
        }
    }

    /// The position of item `index` of the array at `path` in the file that sets it, if a file does.
    pub fn locate_item<S: AsRef<str>>(&self, path: &[S], index: usize) -> Option<Origin> {
        for o in self.sets.iter().rev().chain(self.env.iter().rev()) {
            if dict_depth(&o.value, path) == path.len() {
                return Some(o.origin.clone());
            }
        }
        for file in self.files.iter().rev() {
            let (depth, node) = file.spans.deepest(path);
            if depth == path.len() {
                return node
                    .items
                    .get(index)
                    .map(|item| file.origin_at(item.value.start));
            }
        }
        None
    }

    /// Position of `path`'s key in the files (for ordering sweep axes as written).
    pub fn file_order<S: AsRef<str>>(&self, path: &[S]) -> Option<(usize, usize)> {
        self.files.iter().enumerate().find_map(|(i, f)| {
            let (depth, node) = f.spans.deepest(path);
            (depth == path.len()).then_some((i, node.key.start))
        })
    }

    /// The directory a relative path set at `path` resolves against: the directory of the file
    /// that set it (a sweep value included), else the current directory (environment, `--set`).
    pub fn base_dir<S: AsRef<str>>(&self, path: &[S]) -> PathBuf {
        for o in self.sets.iter().rev().chain(self.env.iter().rev()) {
            if dict_depth(&o.value, path) == path.len() {
                return match &o.origin {
                    Origin::File { path: file, .. } => {
                        absolute(file.parent().unwrap_or(Path::new("")))
                    }
                    _ => absolute(Path::new("")),
                };
            }
        }
        for file in self.files.iter().rev() {
            if file.spans.deepest(path).0 == path.len() {
                return file.dir.clone();
            }
        }
        absolute(Path::new(""))
    }

    /// Reads `EMBEDLAB_*` variables: `__` separates segments, which are lowercased except the
    /// names under `corpus`/`dataset`/`pretrain`/`downstream`; values are parsed the way figment's
    /// `Env` provider parses them (numbers, booleans, arrays, else a string).
    pub fn env_overrides(vars: &[(String, String)]) -> Result<Vec<Override>, ConfigError> {
        let mut out = Vec::new();
        for (var, raw) in vars {
            if ENV_NOT_KEYS.contains(&var.as_str()) {
                continue;
            }
            let Some(rest) = var.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            let mut segments: Vec<String> = rest.split(ENV_SEPARATOR).map(str::to_string).collect();
            if segments.iter().any(|s| s.is_empty()) {
                return Err(ConfigError::Invalid {
                    at: Origin::Env { var: var.clone() }.into(),
                    key: rest.to_string(),
                    message: "empty key segment (use `__` between segments, e.g. EMBEDLAB_ENCODER__DEPTH)".into(),
                    cell: Default::default(),
                });
            }
            let named = NAMED_TABLES.contains(&segments[0].to_ascii_lowercase().as_str());
            for (i, seg) in segments.iter_mut().enumerate() {
                if !(named && i == 1) {
                    *seg = seg.to_ascii_lowercase();
                }
            }
            let value: Value = raw.parse().unwrap_or_else(|e| match e {});
            out.push(Override {
                origin: Origin::Env { var: var.clone() },
                value: nest(&segments, value),
            });
        }
        Ok(out)
    }

    /// Parses `--set KEY=VALUE`: the pair is read as a TOML line `KEY = VALUE` (so keys may be
    /// dotted or quoted and values are TOML); a value that is not valid TOML is taken as a string.
    pub fn set_override(arg: &str) -> Result<Override, ConfigError> {
        let bad = |message: &str| ConfigError::BadSet {
            arg: arg.to_string(),
            message: message.into(),
        };
        let (key, raw) = arg.split_once('=').ok_or_else(|| bad("no `=`"))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(bad("empty key"));
        }
        let raw = raw.trim();
        let table: toml::Table = match toml::from_str(&format!("{key} = {raw}")) {
            Ok(t) => t,
            Err(_) => {
                let quoted = toml::Value::String(raw.to_string()).to_string();
                toml::from_str(&format!("{key} = {quoted}")).map_err(|_| bad("invalid key"))?
            }
        };
        let value = match Value::serialize(&table) {
            Ok(Value::Dict(_, d)) => d,
            _ => return Err(bad("invalid value")),
        };
        Ok(Override {
            origin: Origin::Set {
                arg: arg.to_string(),
            },
            value,
        })
    }
}

/// `value` placed at `path` in otherwise empty tables.
pub fn nest<S: AsRef<str>>(path: &[S], value: Value) -> Dict {
    let mut value = value;
    for seg in path.iter().skip(1).rev() {
        let mut d = Dict::new();
        d.insert(seg.as_ref().to_string(), value);
        value = Value::from(d);
    }
    let mut root = Dict::new();
    if let Some(first) = path.first() {
        root.insert(first.as_ref().to_string(), value);
    }
    root
}

/// How many leading segments of `path` exist in `dict`.
fn dict_depth<S: AsRef<str>>(dict: &Dict, path: &[S]) -> usize {
    let mut current = dict;
    for (depth, seg) in path.iter().enumerate() {
        match current.get(seg.as_ref()) {
            Some(Value::Dict(_, d)) => current = d,
            Some(_) => return depth + 1,
            None => return depth,
        }
    }
    path.len()
}

/// A figment provider over one layer's nested values.
pub struct Layer {
    pub name: String,
    pub source: Option<figment::Source>,
    pub dict: Dict,
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        let meta = Metadata::named(self.name.clone());
        match &self.source {
            Some(source) => meta.source(source.clone()),
            None => meta,
        }
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut map = Map::new();
        map.insert(Profile::Default, self.dict.clone());
        Ok(map)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (saturate(line), saturate(col))
}

/// `path` made absolute against the current directory and lexically normalised (`.` and `..`
/// removed); the file system is not consulted, so the path need not exist.
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    normalise(&joined)
}

/// Removes `.` and resolves `..` lexically.
pub fn normalise(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
