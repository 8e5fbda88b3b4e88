//! One key's JSON Schema rendered as the cells of its reference row: type, default, allowed
//! values and meaning, in Markdown.

use serde_json::{Map, Value};

/// The schema's `$defs`, through which `$ref`s are followed.
pub(super) struct Defs<'s>(pub &'s Map<String, Value>);

impl<'s> Defs<'s> {
    /// `s`, or the definition its `$ref` names (followed to the end).
    pub fn resolve(&self, s: &'s Value) -> &'s Value {
        let target = s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .and_then(|name| self.0.get(name));
        match target {
            Some(def) => self.resolve(def),
            None => s,
        }
    }

    /// An optional value's schema (`anyOf: [X, null]`) without the null, resolved; any other
    /// schema resolved.
    pub fn unwrap_optional(&self, s: &'s Value) -> &'s Value {
        let s = self.resolve(s);
        if let Some(alternatives) = s.get("anyOf").and_then(Value::as_array)
            && let [one] = non_null(alternatives).as_slice()
        {
            return self.resolve(one);
        }
        s
    }

    /// The name of the definition `s` is (compared by identity), or its title (the root's).
    pub fn name_of(&self, s: &'s Value) -> Option<&'s str> {
        self.0
            .iter()
            .find(|(_, def)| std::ptr::eq(*def, s))
            .map(|(name, _)| name.as_str())
            .or_else(|| s.get("title").and_then(Value::as_str))
    }
}

/// The cells of one row.
pub(super) struct Row {
    pub key: String,
    pub ty: String,
    pub default: String,
    pub allowed: String,
    pub meaning: String,
}

impl Row {
    /// The row of key `key` whose schema is `prop`.
    pub fn of(defs: &Defs<'_>, key: &str, prop: &Value, required: bool) -> Row {
        Row {
            key: format!("`{key}`"),
            ty: type_name(defs, prop),
            default: default(defs, prop, required),
            allowed: allowed(defs, prop),
            meaning: meaning(defs, prop),
        }
    }

    /// The row as a Markdown table line; an empty cell shows as a dash.
    pub fn line(&self) -> String {
        let cells = [
            &self.key,
            &self.ty,
            &self.default,
            &self.allowed,
            &self.meaning,
        ];
        let cells: Vec<String> = cells
            .iter()
            .map(|c| {
                if c.is_empty() {
                    "—".to_string()
                } else {
                    c.replace('|', "\\|")
                }
            })
            .collect();
        format!("| {} |", cells.join(" | "))
    }
}

/// A description as one line (a table cell holds no line breaks).
pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A description as Markdown paragraphs: its lines joined, its blank lines kept.
pub(super) fn prose(text: &str) -> String {
    text.split("\n\n")
        .map(one_line)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn description(s: &Value) -> Option<&str> {
    s.get("description").and_then(Value::as_str)
}

fn is_null(s: &Value) -> bool {
    s.get("type").and_then(Value::as_str) == Some("null")
}

fn non_null(alternatives: &[Value]) -> Vec<&Value> {
    alternatives.iter().filter(|a| !is_null(a)).collect()
}

/// The alternatives of a `oneOf` (documented enums) or `anyOf` (optional and hand-written
/// schemas), nulls left out.
fn alternatives(s: &Value) -> Option<Vec<&Value>> {
    s.get("oneOf")
        .or_else(|| s.get("anyOf"))
        .and_then(Value::as_array)
        .map(|a| non_null(a))
}

/// The JSON types `s` admits, null left out.
fn json_types(s: &Value) -> Vec<&str> {
    match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
    .into_iter()
    .filter(|t| *t != "null")
    .collect()
}

fn nullable(defs: &Defs<'_>, prop: &Value) -> bool {
    let s = defs.resolve(prop);
    s.get("type")
        .and_then(Value::as_array)
        .is_some_and(|ts| ts.iter().any(|t| t == "null"))
        || s.get("anyOf")
            .and_then(Value::as_array)
            .is_some_and(|alts| alts.iter().any(is_null))
}

/// The type in TOML words: string, integer, float, bool, table, array of ..., or alternatives.
pub(super) fn type_name(defs: &Defs<'_>, s: &Value) -> String {
    let s = defs.resolve(s);
    let mut names: Vec<String> = Vec::new();
    if let Some(alts) = alternatives(s) {
        names.extend(alts.into_iter().map(|a| type_name(defs, a)));
    } else if s.get("properties").is_some() {
        names.push("table".into());
    } else {
        for t in json_types(s) {
            names.push(match t {
                "string" => "string".into(),
                "integer" => "integer".into(),
                "number" => "float".into(),
                "boolean" => "bool".into(),
                "array" => array_name(defs, s),
                "object" => match s.get("additionalProperties") {
                    Some(v @ Value::Object(_)) => {
                        format!("table of {}", plural(&type_name(defs, v)))
                    }
                    _ => "table".into(),
                },
                other => other.into(),
            });
        }
    }
    let mut unique: Vec<String> = Vec::new();
    for n in names {
        if !unique.contains(&n) {
            unique.push(n);
        }
    }
    unique.join(" or ")
}

fn array_name(defs: &Defs<'_>, s: &Value) -> String {
    let items = match s.get("items") {
        Some(i @ Value::Object(_)) => plural(&type_name(defs, i)),
        _ => "values".into(),
    };
    match (s.get("minItems"), s.get("maxItems")) {
        (Some(lo), Some(hi)) if lo == hi => format!("array of {lo} {items}"),
        _ => format!("array of {items}"),
    }
}

fn plural(type_name: &str) -> String {
    match type_name {
        "string" | "integer" | "float" | "bool" => format!("{type_name}s"),
        other if other.starts_with("array") => "arrays".into(),
        other if other.starts_with("table") => "tables".into(),
        other => format!("{other} values"),
    }
}

/// The default as TOML in a code span; *required*, or *unset* for an optional key without one.
fn default(defs: &Defs<'_>, prop: &Value, required: bool) -> String {
    if required {
        return "**required**".into();
    }
    match prop.get("default") {
        Some(Value::Null) => "unset".into(),
        Some(v) => format!("`{}`", toml(v)),
        None if nullable(defs, prop) => "unset".into(),
        None => String::new(),
    }
}

/// A JSON value as TOML; a table stands as `{}` (its keys' own defaults).
fn toml(v: &Value) -> String {
    match v {
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(toml).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(_) => "{}".into(),
        other => other.to_string(),
    }
}

/// The allowed values: an enum's words (with their meanings), a number's range, an array's
/// constraints, or the alternatives of a word-or-value key.
fn allowed(defs: &Defs<'_>, prop: &Value) -> String {
    let s = defs.unwrap_optional(prop);
    let lines: Vec<String> = match alternatives(s) {
        Some(alts) => alts
            .into_iter()
            .flat_map(|a| alternative(defs, a))
            .collect(),
        None => values(s),
    };
    lines.join("<br>")
}

/// One alternative of a `oneOf`/`anyOf`: its values (or its type) and its description.
fn alternative(defs: &Defs<'_>, a: &Value) -> Vec<String> {
    let a = defs.resolve(a);
    let mut lines = values(a);
    let is_word = a.get("const").is_some() || a.get("enum").is_some();
    if !is_word {
        let ty = type_name(defs, a);
        lines = match lines.as_slice() {
            [] => vec![ty],
            [range] => vec![format!("{ty} {range}")],
            _ => lines,
        };
    }
    match description(a) {
        Some(d) => lines
            .into_iter()
            .map(|l| format!("{l}: {}", one_line(d)))
            .collect(),
        None => lines,
    }
}

/// What one schema admits beyond its type, one entry per enum word.
fn values(s: &Value) -> Vec<String> {
    if let Some(c) = s.get("const") {
        return vec![format!("`{c}`")];
    }
    if let Some(words) = s.get("enum").and_then(Value::as_array) {
        return words.iter().map(|w| format!("`{w}`")).collect();
    }
    let types = json_types(s);
    if types.contains(&"boolean") {
        return vec!["`true`, `false`".into()];
    }
    if types.contains(&"integer") || types.contains(&"number") {
        return range(s).into_iter().collect();
    }
    if types.contains(&"array") {
        let mut rules = Vec::new();
        if let Some(n) = s.get("minItems")
            && s.get("maxItems") != Some(n)
        {
            rules.push(format!("at least {n}"));
        }
        if s.get("uniqueItems") == Some(&Value::Bool(true)) {
            rules.push("no repeats".to_string());
        }
        return if rules.is_empty() {
            Vec::new()
        } else {
            vec![rules.join(", ")]
        };
    }
    Vec::new()
}

/// A number's bounds: `≥ a`, `> a`, `≤ b`, `< b`, or an interval `[a, b)` (square brackets
/// include the bound, round ones exclude it).
fn range(s: &Value) -> Option<String> {
    let bound = |inclusive: &str, exclusive: &str| {
        s.get(exclusive)
            .map(|v| (number(v), false))
            .or_else(|| s.get(inclusive).map(|v| (number(v), true)))
    };
    let lo = bound("minimum", "exclusiveMinimum");
    let hi = bound("maximum", "exclusiveMaximum");
    Some(match (lo, hi) {
        (Some((a, a_in)), Some((b, b_in))) => format!(
            "`{}{a}, {b}{}`",
            if a_in { '[' } else { '(' },
            if b_in { ']' } else { ')' }
        ),
        (Some((a, true)), None) => format!("≥ {a}"),
        (Some((a, false)), None) => format!("> {a}"),
        (None, Some((b, true))) => format!("≤ {b}"),
        (None, Some((b, false))) => format!("< {b}"),
        (None, None) => return None,
    })
}

/// A bound as written in a file: whole numbers without a fraction.
fn number(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
        _ => v.to_string(),
    }
}

/// What the key means: its own description, else its type's.
fn meaning(defs: &Defs<'_>, prop: &Value) -> String {
    description(prop)
        .or_else(|| description(defs.unwrap_optional(prop)))
        .map(one_line)
        .unwrap_or_default()
}
