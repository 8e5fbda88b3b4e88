//! docs/EXPERIMENT.md, the reference of every key of the experiment file, rendered from the JSON
//! Schema of [`Experiment`](super::Experiment): the config types' `///` doc comments give the
//! meanings, serde's defaults the defaults, the enums' variants and the `#[schemars(range)]`s the
//! allowed values. A test keeps the page equal to what this renders.

mod cells;
mod key_order;

use super::experiment::json_schema;
use cells::{Defs, Row, prose, type_name};
use serde_json::{Map, Value};

const HEADER: &str = "\
# The experiment file

<!-- Generated: do not edit. -->
*This page is generated from the doc comments of the types in `src/config/` (through the JSON
Schema that `embedlab schema` prints). Edit those, then regenerate it with
`EMBEDLAB_UPDATE_DOCS=1 cargo test --lib config::reference`; that test fails while the page is
out of date.*

An experiment is a TOML file; `experiments/quickstart.toml` is a complete one. Every key has a
default unless it is marked **required**, so a short file is a whole experiment, and an unknown
key is an error. Settings are layered: built-in defaults, then the experiment files in the order
given, then `EMBEDLAB_*` environment variables (`EMBEDLAB_ENCODER__DEPTH=3`), then
`--set encoder.depth=3`; each layer overrides the ones before. Every cell of the `[sweep]` is
checked before anything runs, and a mistake is reported with its file, line and key path (exit
code 2).

`NAME` in a table's header is a name of your choosing (letters, digits, `_` and `-`; not `none`
or `all`; not a corpus's and a dataset's both), by which other tables refer to it.

In the tables below, *unset* means that the key has no value unless given one (leave it out for
that); a default of `{}` means the inline table's own defaults; an interval such as `[0, 1)`
includes a bound next to a square bracket and excludes one next to a round bracket.
";

/// The page, rendered from the schema.
pub fn reference_markdown() -> String {
    let schema = json_schema();
    let no_defs = Map::new();
    let page = Page {
        defs: Defs(
            schema
                .get("$defs")
                .and_then(Value::as_object)
                .unwrap_or(&no_defs),
        ),
        orders: key_order::key_orders(),
    };
    let mut out = String::from(HEADER);
    for section in page.sections(&schema) {
        out.push('\n');
        out.push_str(&page.render(&section));
    }
    out
}

/// One section of the page: the top level, a table of the file or an inline table.
struct Section<'s> {
    /// Markdown, code spans included.
    heading: String,
    /// The table's schema; for [`Body::Grid`], the map's.
    schema: &'s Value,
    body: Body,
    /// Headings of the tables an inline table appears in.
    used_in: Vec<String>,
}

enum Body {
    /// A row per key of the table.
    Keys,
    /// A map from key paths to lists of values (`[sweep]`): one row for its entries.
    Grid,
}

struct Page<'s> {
    defs: Defs<'s>,
    orders: Vec<(String, &'static [&'static str])>,
}

fn is_table(s: &Value) -> bool {
    s.get("properties").is_some()
}

impl<'s> Page<'s> {
    /// A table's keys and their schemas, in declaration order.
    fn keys(&self, table: &'s Value) -> Vec<(&'s str, &'s Value)> {
        let Some(props) = table.get("properties").and_then(Value::as_object) else {
            return Vec::new();
        };
        let order: &[&str] = self
            .defs
            .name_of(table)
            .and_then(|name| self.orders.iter().find(|(n, _)| n == name))
            .map_or(&[], |(_, keys)| keys);
        let mut keys: Vec<(&str, &Value)> = order
            .iter()
            .filter_map(|k| props.get_key_value(*k))
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        for (k, v) in props {
            if !keys.iter().any(|(have, _)| have == k) {
                keys.push((k.as_str(), v));
            }
        }
        keys
    }

    /// The sections in file order: the top level, then each table followed by the inline tables
    /// it is the first to hold.
    fn sections(&self, root: &'s Value) -> Vec<Section<'s>> {
        let mut out = vec![Section {
            heading: "Top-level keys".into(),
            schema: root,
            body: Body::Keys,
            used_in: Vec::new(),
        }];
        for (key, prop) in self.keys(root) {
            let s = self.defs.resolve(prop);
            if is_table(s) {
                self.table(&mut out, format!("`[{key}]`"), s);
            } else if let Some(entry) = s.get("additionalProperties").filter(|v| v.is_object()) {
                let entry = self.defs.resolve(entry);
                if is_table(entry) {
                    self.table(&mut out, format!("`[{key}.NAME]`"), entry);
                } else {
                    out.push(Section {
                        heading: format!("`[{key}]`"),
                        schema: s,
                        body: Body::Grid,
                        used_in: Vec::new(),
                    });
                }
            }
        }
        out
    }

    /// Adds the section of `table`, then those of the inline tables it holds (each once).
    fn table(&self, out: &mut Vec<Section<'s>>, heading: String, table: &'s Value) {
        out.push(Section {
            heading: heading.clone(),
            schema: table,
            body: Body::Keys,
            used_in: Vec::new(),
        });
        for (key, prop) in self.keys(table) {
            let inner = self.defs.unwrap_optional(prop);
            if !is_table(inner) {
                continue;
            }
            match out.iter_mut().find(|s| std::ptr::eq(s.schema, inner)) {
                Some(seen) => seen.used_in.push(heading.clone()),
                None => {
                    let at = out.len();
                    self.table(out, format!("`{key} = {{ ... }}`"), inner);
                    out[at].used_in.push(heading.clone());
                }
            }
        }
    }

    /// The rows of a [`Body::Keys`] section.
    fn rows(&self, table: &'s Value) -> Vec<Row> {
        let required: Vec<&str> = table
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        self.keys(table)
            .into_iter()
            .map(|(key, prop)| Row::of(&self.defs, key, prop, required.contains(&key)))
            .collect()
    }

    fn render(&self, section: &Section<'s>) -> String {
        let mut out = format!("## {}\n\n", section.heading);
        let intro = section
            .schema
            .get("description")
            .and_then(Value::as_str)
            .map(prose)
            .unwrap_or_default();
        let intro = without_heading(&intro, &section.heading);
        if !intro.is_empty() {
            out.push_str(&intro);
            out.push_str("\n\n");
        }
        if !section.used_in.is_empty() {
            out.push_str(&format!("In {}.\n\n", and_list(&section.used_in)));
        }
        let rows = match section.body {
            Body::Keys => self.rows(section.schema),
            Body::Grid => vec![Row {
                key: "`\"dotted.key.path\"`".into(),
                ty: section
                    .schema
                    .get("additionalProperties")
                    .map(|v| type_name(&self.defs, v))
                    .unwrap_or_default(),
                default: String::new(),
                allowed: "values of that key".into(),
                meaning: "One axis of the grid: a key of the file as a quoted dotted path \
                          (`\"encoder.depth\"`, `\"downstream.NAME.transfer\"`) and the values \
                          it takes. `*` in place of a NAME (`\"pretrain.*.pack\"`) sets the key \
                          in every table of the section together: one axis, not one per table."
                    .into(),
            }],
        };
        out.push_str("| key | type | default | allowed values | meaning |\n");
        out.push_str("| --- | --- | --- | --- | --- |\n");
        for row in rows {
            out.push_str(&row.line());
            out.push('\n');
        }
        out
    }
}

/// A table's description without the heading it may start with ("`[encoder]`: a transformer
/// encoder." under the heading `[encoder]` reads "A transformer encoder.").
fn without_heading(intro: &str, heading: &str) -> String {
    match intro
        .strip_prefix(heading)
        .and_then(|r| r.strip_prefix(": "))
    {
        Some(rest) => {
            let mut chars = rest.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        }
        None => intro.to_string(),
    }
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Where the page lives, relative to the crate root.
    const PAGE: &str = "docs/EXPERIMENT.md";

    /// Set to 1, this environment variable makes the page test rewrite the page.
    const UPDATE_VAR: &str = "EMBEDLAB_UPDATE_DOCS";

    #[test]
    fn page_is_up_to_date() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(PAGE);
        let want = reference_markdown();
        if std::env::var(UPDATE_VAR).is_ok_and(|v| v == "1") {
            std::fs::write(&path, &want).expect("writing the reference page");
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have != want {
            let (have_lines, want_lines): (Vec<&str>, Vec<&str>) =
                (have.lines().collect(), want.lines().collect());
            let at = have_lines
                .iter()
                .zip(&want_lines)
                .position(|(a, b)| a != b)
                .unwrap_or(have_lines.len().min(want_lines.len()));
            panic!(
                "{PAGE} differs from what the config types' doc comments give, first at line {}:\n  \
                 file:      {:?}\n  generated: {:?}\nRegenerate it with\n  \
                 {UPDATE_VAR}=1 cargo test --lib config::reference\nand commit it.",
                at + 1,
                have_lines.get(at).copied().unwrap_or("(end of file)"),
                want_lines.get(at).copied().unwrap_or("(end of file)"),
            );
        }
    }

    /// Every key of every table has a doc comment of its own, a type and a default (or is
    /// required or optional).
    #[test]
    fn every_key_is_documented() {
        let schema = json_schema();
        let defs = schema["$defs"].as_object().expect("$defs");
        let tables = std::iter::once(("Experiment", &schema))
            .chain(defs.iter().map(|(n, d)| (n.as_str(), d)))
            .filter(|(_, t)| is_table(t));
        let page = Page {
            defs: Defs(defs),
            orders: key_order::key_orders(),
        };
        let mut missing = Vec::new();
        for (name, table) in tables {
            for row in page.rows(table) {
                let key = row.key.trim_matches('`');
                let prop = &table["properties"][key];
                if prop.get("description").and_then(Value::as_str).is_none() {
                    missing.push(format!("{name}.{key}: no doc comment"));
                }
                if row.ty.is_empty() || row.default.is_empty() {
                    missing.push(format!("{name}.{key}: no type or default"));
                }
            }
        }
        assert!(missing.is_empty(), "{missing:#?}");
    }

    /// Every table type lists its keys in declaration order (`key_order::key_orders`).
    #[test]
    fn every_table_has_its_key_order() {
        let schema = json_schema();
        let defs = schema["$defs"].as_object().expect("$defs");
        let orders = key_order::key_orders();
        let tables = std::iter::once(("Experiment", &schema))
            .chain(defs.iter().map(|(n, d)| (n.as_str(), d)))
            .filter(|(_, t)| is_table(t));
        for (name, table) in tables {
            let mut want: Vec<&str> = table["properties"]
                .as_object()
                .expect("properties")
                .keys()
                .map(String::as_str)
                .collect();
            let (_, keys) = orders
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("{name} is missing from key_order::key_orders"));
            let mut have = keys.to_vec();
            want.sort_unstable();
            have.sort_unstable();
            assert_eq!(have, want, "{name}");
        }
    }

    #[test]
    fn page_has_a_section_per_table() {
        let page = reference_markdown();
        for heading in [
            "## Top-level keys",
            "## `[corpus.NAME]`",
            "## `filter = { ... }`",
            "## `[dataset.NAME]`",
            "## `[tokenizer]`",
            "## `[embeddings]`",
            "## `[encoder]`",
            "## `[pretrain.NAME]`",
            "## `optimizer = { ... }`",
            "## `[downstream.NAME]`",
            "## `probe = { ... }`",
            "## `[sweep]`",
        ] {
            assert!(page.contains(&format!("\n{heading}\n")), "{heading}");
        }
    }
}
