//! Loading: layers merged with figment (built-in defaults < files in order < `EMBEDLAB_*`
//! environment < `--set`), deserialised into [`Experiment`], relative paths resolved, the sweep
//! expanded into cells, every cell validated. Every failure becomes a located [`ConfigError`].

use super::error::{CellNote, ConfigError, Hint, Origin, display_path};
use super::experiment::Experiment;
use super::source::{Layer, Override, Point, SourceFile, Sources, nest, normalise};
use super::validate::{Violation, validate, warnings};
use figment::Figment;
use figment::error::{Actual, Kind};
use figment::providers::Serialized;
use figment::value::Value;
use std::path::PathBuf;

/// Most cells a sweep may expand to.
pub const MAX_CELLS: usize = 10_000;

/// What to load.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Experiment files, merged in order (later files override earlier ones).
    pub files: Vec<PathBuf>,
    /// `--set KEY=VALUE` arguments, applied in order after everything else.
    pub sets: Vec<String>,
    /// The process environment (only `EMBEDLAB_*` variables are used). Passed in rather than read
    /// here so that tests need not mutate the process environment.
    pub env: Vec<(String, String)>,
}

/// One value of one sweep axis.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AxisValue {
    /// The dotted key path, as written in `[sweep]`.
    pub key: String,
    pub value: serde_json::Value,
}

/// One point of the sweep grid, fully resolved and validated.
#[derive(Debug, Clone, PartialEq)]
pub struct GridPoint {
    /// 0-based position in the grid (the first axis varies slowest).
    pub index: usize,
    pub axes: Vec<AxisValue>,
    /// The experiment with the axis values applied, paths resolved and `sweep` emptied.
    pub experiment: Experiment,
}

/// A loaded experiment: the merged base configuration and its grid.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The merged configuration before the sweep is applied (paths resolved).
    pub base: Experiment,
    /// The sweep keys, in file order.
    pub axes: Vec<String>,
    /// Every grid point, in order; a single point when there is no sweep.
    pub points: Vec<GridPoint>,
    /// Located messages about valid but doubtful settings (print them as warnings).
    pub warnings: Vec<String>,
    pub sources: Sources,
}

/// Reads, merges, validates and expands the experiment.
pub fn load(options: &LoadOptions) -> Result<Loaded, ConfigError> {
    let mut sources = Sources::default();
    for path in &options.files {
        sources.files.push(SourceFile::read(path)?);
    }
    load_sources(sources, options)
}

/// Like [`load`], from experiment texts already in memory (`(path for messages, text)`).
pub fn load_str(
    files: &[(PathBuf, String)],
    sets: &[String],
    env: &[(String, String)],
) -> Result<Loaded, ConfigError> {
    let mut sources = Sources::default();
    for (path, text) in files {
        sources
            .files
            .push(SourceFile::from_text(path, text.clone())?);
    }
    let options = LoadOptions {
        files: Vec::new(),
        sets: sets.to_vec(),
        env: env.to_vec(),
    };
    load_sources(sources, &options)
}

/// Parses one experiment text as if read from `file_name`: merged over the defaults, validated
/// and expanded, without touching the disk (no `EMBEDLAB_*` environment, no `--set`). Relative
/// data paths resolve against `file_name`'s directory but are not opened. The fuzzing entry point.
pub fn parse(text: &str, file_name: &str) -> Result<Loaded, ConfigError> {
    load_str(&[(PathBuf::from(file_name), text.to_string())], &[], &[])
}

fn load_sources(mut sources: Sources, options: &LoadOptions) -> Result<Loaded, ConfigError> {
    sources.env = Sources::env_overrides(&options.env)?;
    for arg in &options.sets {
        sources.sets.push(Sources::set_override(arg)?);
    }
    let mut figment = Figment::from(Serialized::defaults(Experiment::default()));
    for layer in sources.providers() {
        figment = figment.merge(layer);
    }
    let mut base: Experiment = figment
        .extract()
        .map_err(|e| map_figment_error(e, &sources, &CellNote(None)))?;
    if base.name.is_empty() {
        base.name = default_name(&sources);
    }
    resolve_paths(&mut base, &sources);

    let axes = sweep_axes(&base, &sources)?;
    let points = expand(&figment, &base, &axes, &sources)?;
    let warnings = warnings(points.iter().map(|p| &p.experiment))
        .into_iter()
        .map(|v| {
            let at = sources.locate(&v.path, Point::Key);
            format!("{at}: {}: {}", display_path(&v.path), v.message)
        })
        .collect();
    Ok(Loaded {
        base,
        axes: axes.into_iter().map(|a| a.key).collect(),
        points,
        warnings,
        sources,
    })
}

fn default_name(sources: &Sources) -> String {
    sources
        .files
        .first()
        .and_then(|f| f.path.file_stem())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "experiment".into())
}

/// Relative data paths resolve against the directory of the file that set them.
fn resolve_paths(exp: &mut Experiment, sources: &Sources) {
    let resolve = |path: &mut PathBuf, key: &[&str]| {
        if path.is_relative() {
            *path = normalise(&sources.base_dir(key).join(&*path));
        }
    };
    for (name, c) in exp.corpus.iter_mut() {
        resolve(&mut c.path, &["corpus", name, "path"]);
    }
    for (name, d) in exp.dataset.iter_mut() {
        for (key, path) in [
            ("path", &mut d.path),
            ("train", &mut d.train),
            ("dev", &mut d.dev),
            ("test", &mut d.test),
        ] {
            if let Some(p) = path.as_mut() {
                resolve(p, &["dataset", name, key]);
            }
        }
    }
    if let Some(p) = exp.tokenizer.path.as_mut() {
        resolve(p, &["tokenizer", "path"]);
    }
    if let Some(p) = exp.vectors.synonyms.as_mut() {
        resolve(p, &["vectors", "synonyms"]);
    }
    for (name, p) in exp.pretrain.iter_mut() {
        if let Some(path) = p.path.as_mut() {
            resolve(path, &["pretrain", name, "path"]);
        }
    }
}

struct Axis {
    key: String,
    /// The key paths the axis sets: one, or one per table that a `*` in place of a NAME stands
    /// for (`"pretrain.*.pack"`: the key in every `[pretrain.NAME]`).
    paths: Vec<Vec<String>>,
    values: Vec<serde_json::Value>,
}

/// The key paths `key` names: itself, or with a `*` in place of a NAME (the second segment of
/// a `corpus`, `dataset`, `pretrain` or `downstream` path) one path per table of that section.
fn axis_paths(base: &Experiment, key: &str, at: &Origin) -> Result<Vec<Vec<String>>, ConfigError> {
    let path: Vec<String> = key.split('.').map(str::to_string).collect();
    if !path.iter().any(|s| s == "*") {
        return Ok(vec![path]);
    }
    let names: Option<Vec<&String>> = match (path.first().map(String::as_str), path.get(1)) {
        (Some("corpus"), Some(w)) if w == "*" => Some(base.corpus.keys().collect()),
        (Some("dataset"), Some(w)) if w == "*" => Some(base.dataset.keys().collect()),
        (Some("pretrain"), Some(w)) if w == "*" => Some(base.pretrain.keys().collect()),
        (Some("downstream"), Some(w)) if w == "*" => Some(base.downstream.keys().collect()),
        _ => None,
    };
    let invalid = |message: String| ConfigError::Invalid {
        at: at.clone().into(),
        key: display_path(&["sweep", key]),
        message,
        cell: CellNote(None),
    };
    match names {
        Some(names) if path[2..].iter().all(|s| s != "*") => {
            if names.is_empty() {
                return Err(invalid(format!("there is no [{}.NAME] for '*' to stand for", path[0])));
            }
            Ok(names
                .into_iter()
                .map(|n| {
                    let mut p = path.clone();
                    p[1] = n.clone();
                    p
                })
                .collect())
        }
        _ => Err(invalid(
            "'*' stands only for the NAME of a corpus, dataset, pretrain or downstream table (\"pretrain.*.pack\")".into(),
        )),
    }
}

/// The sweep axes in file order (then keys set only by environment or `--set`, alphabetically),
/// each checked to be a real key path of the experiment.
fn sweep_axes(base: &Experiment, sources: &Sources) -> Result<Vec<Axis>, ConfigError> {
    let tree = serde_json::to_value(base).unwrap_or_default();
    let mut axes = Vec::new();
    for (key, values) in &base.sweep {
        let at = sources.locate(&["sweep", key.as_str()], Point::Key);
        let paths = axis_paths(base, key, &at)?;
        for path in &paths {
            check_key_path(&tree, path, key, &at)?;
        }
        if values.is_empty() {
            return Err(ConfigError::Invalid {
                at: at.into(),
                key: display_path(&["sweep", key.as_str()]),
                message: "an axis needs at least one value".into(),
                cell: CellNote(None),
            });
        }
        axes.push(Axis {
            key: key.clone(),
            paths,
            values: values.clone(),
        });
    }
    axes.sort_by_key(|a| {
        sources
            .file_order(&["sweep", a.key.as_str()])
            .unwrap_or((usize::MAX, usize::MAX))
    });
    let cells = axes
        .iter()
        .try_fold(1u128, |acc, a| acc.checked_mul(a.values.len() as u128));
    match cells {
        Some(n) if n <= MAX_CELLS as u128 => Ok(axes),
        n => Err(ConfigError::TooManyCells {
            at: sources.locate(&["sweep"], Point::Key).into(),
            cells: n.unwrap_or(u128::MAX),
            limit: MAX_CELLS,
        }),
    }
}

/// A sweep key must name an existing key of the resolved experiment (not inside `sweep`).
fn check_key_path(
    tree: &serde_json::Value,
    path: &[String],
    key: &str,
    at: &Origin,
) -> Result<(), ConfigError> {
    let unknown = |depth: usize, candidates: Vec<String>| {
        let seg = &path[depth];
        let parent = if depth == 0 {
            "the experiment".to_string()
        } else {
            display_path(&path[..depth])
        };
        let hint = if candidates.is_empty() {
            format!(" ({parent} is not a table)")
        } else {
            Hint::closest(seg, &candidates).to_string()
        };
        ConfigError::Invalid {
            at: at.clone().into(),
            key: display_path(&["sweep", key]),
            message: format!("not a key of the experiment: {parent} has no key '{seg}'{hint}"),
            cell: CellNote(None),
        }
    };
    if path.first().map(String::as_str) == Some("sweep") {
        return Err(ConfigError::Invalid {
            at: at.clone().into(),
            key: display_path(&["sweep", key]),
            message: "the sweep cannot sweep itself".into(),
            cell: CellNote(None),
        });
    }
    let mut node = tree;
    for (depth, seg) in path.iter().enumerate() {
        match node {
            serde_json::Value::Object(map) => match map.get(seg) {
                Some(child) => node = child,
                // An optional key left unset is not in the resolved tree: the schema knows it.
                None if schema_has_path(path) => return Ok(()),
                None => return Err(unknown(depth, map.keys().cloned().collect())),
            },
            _ => return Err(unknown(depth, Vec::new())),
        }
    }
    Ok(())
}

/// Whether the experiment's JSON Schema has a key at `path` (section names matched by the maps'
/// value schemas; optional keys included).
fn schema_has_path(path: &[String]) -> bool {
    let schema = super::experiment::json_schema();
    let defs = schema.get("$defs").cloned().unwrap_or_default();
    // Follows `$ref`s and the non-null branch of `anyOf` (an optional table).
    fn resolve<'a>(
        mut node: &'a serde_json::Value,
        defs: &'a serde_json::Value,
    ) -> &'a serde_json::Value {
        for _ in 0..8 {
            if let Some(r) = node.get("$ref").and_then(|r| r.as_str()) {
                match r.strip_prefix("#/$defs/").and_then(|name| defs.get(name)) {
                    Some(def) => node = def,
                    None => break,
                }
            } else if let Some(branch) = node
                .get("anyOf")
                .and_then(|a| a.as_array())
                .and_then(|a| a.iter().find(|b| b.get("type") != Some(&"null".into())))
            {
                node = branch;
            } else {
                break;
            }
        }
        node
    }
    let mut node = resolve(&schema, &defs);
    for seg in path {
        let next = match node.get("properties").and_then(|p| p.get(seg)) {
            Some(child) => child,
            None => match node.get("additionalProperties") {
                Some(v) if v.is_object() => v,
                _ => return false,
            },
        };
        node = resolve(next, &defs);
    }
    true
}

/// Every grid point: the base figment with the point's axis values merged on top, extracted,
/// resolved and validated.
fn expand(
    figment: &Figment,
    base: &Experiment,
    axes: &[Axis],
    sources: &Sources,
) -> Result<Vec<GridPoint>, ConfigError> {
    let total: usize = axes.iter().map(|a| a.values.len()).product();
    let mut points = Vec::with_capacity(total);
    for index in 0..total {
        // Mixed radix, first axis slowest.
        let mut rest = index;
        let mut picks = vec![0; axes.len()];
        for (i, axis) in axes.iter().enumerate().rev() {
            picks[i] = rest % axis.values.len();
            rest /= axis.values.len();
        }
        let point_axes: Vec<AxisValue> = axes
            .iter()
            .zip(&picks)
            .map(|(a, &p)| AxisValue {
                key: a.key.clone(),
                value: a.values[p].clone(),
            })
            .collect();
        let note = CellNote(if axes.is_empty() {
            None
        } else {
            Some(
                point_axes
                    .iter()
                    .map(|a| format!("{} = {}", a.key, a.value))
                    .collect::<Vec<_>>()
                    .join(", ")
                    .into(),
            )
        });

        // The axis values form the highest layer; errors in them point at the value in `[sweep]`.
        let mut cell_sources = sources.clone();
        let mut fig = figment.clone();
        for (axis, &pick) in axes.iter().zip(&picks) {
            let value =
                Value::serialize(&axis.values[pick]).unwrap_or_else(|_| Value::from(String::new()));
            let origin = sources
                .locate_item(&["sweep", axis.key.as_str()], pick)
                .unwrap_or_else(|| sources.locate(&["sweep", axis.key.as_str()], Point::Key));
            for path in &axis.paths {
                let dict = nest(path, value.clone());
                cell_sources.sets.push(Override {
                    origin: origin.clone(),
                    value: dict.clone(),
                });
                fig = fig.merge(Layer {
                    name: origin.to_string(),
                    source: None,
                    dict,
                });
            }
        }
        let mut exp: Experiment = if axes.is_empty() {
            base.clone()
        } else {
            let mut e: Experiment = fig
                .extract()
                .map_err(|e| map_figment_error(e, &cell_sources, &note))?;
            e.name = base.name.clone();
            resolve_paths(&mut e, &cell_sources);
            e
        };
        exp.sweep.clear();
        if let Err(v) = validate(&exp) {
            // A rule the base configuration breaks as well is not about this cell.
            let about_cell = axes.is_empty() || validate(base).err().as_ref() != Some(&v);
            let note = if about_cell { note } else { CellNote(None) };
            return Err(violation_error(v, &cell_sources, &note));
        }
        points.push(GridPoint {
            index,
            axes: point_axes,
            experiment: exp,
        });
    }
    Ok(points)
}

fn violation_error(v: Violation, sources: &Sources, note: &CellNote) -> ConfigError {
    ConfigError::Invalid {
        at: sources.locate(&v.path, Point::Value).into(),
        key: display_path(&v.path),
        message: v.message,
        cell: note.clone(),
    }
}

/// Turns figment's first error into a located message.
fn map_figment_error(err: figment::Error, sources: &Sources, note: &CellNote) -> ConfigError {
    let err = err
        .into_iter()
        .next()
        .unwrap_or_else(|| figment::Error::from("unknown error".to_string()));
    let mut path = err.path.clone();
    let cell = note.clone();
    match err.kind {
        Kind::UnknownField(field, allowed) => {
            if path.last() != Some(&field) {
                path.push(field.clone());
            }
            ConfigError::UnknownKey {
                at: sources.locate(&path, Point::Key).into(),
                key: display_path(&path),
                hint: Hint::closest(&field, allowed),
                cell,
            }
        }
        Kind::MissingField(field) => {
            if path.last().map(String::as_str) != Some(&*field) {
                path.push(field.to_string());
            }
            ConfigError::Missing {
                at: sources.locate(&path, Point::Key).into(),
                key: display_path(&path),
                cell,
            }
        }
        Kind::UnknownVariant(found, allowed) => ConfigError::UnknownValue {
            at: sources.locate(&path, Point::Value).into(),
            key: display_path(&path),
            hint: Hint::closest(&found, allowed),
            found: format!("'{found}'"),
            cell,
        },
        Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => {
            ConfigError::WrongType {
                at: sources.locate(&path, Point::Value).into(),
                key: display_path(&path),
                expected: describe_expected(&expected),
                found: describe_actual(&actual),
                cell,
            }
        }
        Kind::InvalidLength(len, expected) => ConfigError::WrongType {
            at: sources.locate(&path, Point::Value).into(),
            key: display_path(&path),
            expected: describe_expected(&expected),
            found: format!("{len} items"),
            cell,
        },
        other => ConfigError::Invalid {
            at: sources.locate(&path, Point::Value).into(),
            key: display_path(&path),
            message: other.to_string(),
            cell,
        },
    }
}

/// serde's "expected" texts in the words of the experiment file.
fn describe_expected(expected: &str) -> String {
    match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" => "a non-negative integer".into(),
        "i8" | "i16" | "i32" | "i64" | "isize" => "an integer".into(),
        "f32" | "f64" => "a number".into(),
        "a boolean" => "true or false".into(),
        "a string" => "a string".into(),
        "a sequence" => "an array".into(),
        "a map" => "a table".into(),
        e if e.starts_with("struct ") => "a table".into(),
        e if e.starts_with("a sequence") || e.starts_with("an array") => "an array".into(),
        e if e.starts_with("tuple of ") => format!("an array of {}", &e["tuple of ".len()..]),
        e if e.starts_with("unit variant") || e.starts_with("enum ") => "a string".into(),
        e => e.to_string(),
    }
}

fn describe_actual(actual: &Actual) -> String {
    match actual {
        Actual::Bool(b) => format!("a boolean ({b})"),
        Actual::Unsigned(n) => format!("an integer ({n})"),
        Actual::Signed(n) => format!("an integer ({n})"),
        Actual::Float(x) => format!("a number ({x})"),
        Actual::Char(c) => format!("a string ({:?})", c.to_string()),
        Actual::Str(s) => format!("a string ({s:?})"),
        Actual::Seq => "an array".into(),
        Actual::Map => "a table".into(),
        Actual::Unit | Actual::Option => "nothing".into(),
        other => other.to_string(),
    }
}
