//! The one table reader: the rows of a TSV, CSV or JSONL file by column name, for datasets and
//! `predict`'s inputs alike. What a row must hold beyond its columns (non-empty texts, a known
//! split) is the caller's; errors name the file and the line (counted in the decompressed text,
//! from 1).
//!
//! TSV has a header row and no quoting (a field cannot hold a tab or a newline); CSV follows
//! RFC 4180 quoting; JSONL holds one object per line whose values are strings (numbers and
//! booleans are accepted and written as they appear in JSON). Blank lines are skipped, and every
//! row of a TSV or CSV file has as many fields as its header.

use super::{Format, read_bytes, utf8};
use crate::data::error::{DataError, Result};
use std::path::Path;

/// A column a reader asks for.
#[derive(Debug, Clone, Copy)]
pub struct Column<'a> {
    /// Its name in the header (TSV, CSV) or the key in each object (JSONL).
    pub name: &'a str,
    /// What it holds, for messages: `text`, `label`, `question`, ...
    pub role: &'static str,
    /// Whether a file (TSV, CSV) or a line (JSONL) without it is an error; otherwise its value
    /// is `None` there.
    pub required: bool,
}

impl<'a> Column<'a> {
    pub fn required(name: &'a str, role: &'static str) -> Column<'a> {
        Column {
            name,
            role,
            required: true,
        }
    }

    pub fn optional(name: &'a str, role: &'static str) -> Column<'a> {
        Column {
            name,
            role,
            required: false,
        }
    }
}

/// Reads the table in `path` (a TSV, CSV or JSONL `format`) and hands each non-blank row to
/// `row`: its line and the value of each of `columns`, in their order (`None` for an optional
/// column the row lacks). Values are as stored (not trimmed). Rows are read and handed over in
/// file order, so the first bad row is the one reported; `row`'s results are collected.
pub fn read_rows<T>(
    path: &Path,
    format: Format,
    columns: &[Column<'_>],
    row: impl FnMut(usize, &[Option<&str>]) -> Result<T>,
) -> Result<Vec<T>> {
    match format {
        Format::Tsv => read_tsv(path, columns, row),
        Format::Csv => read_csv(path, columns, row),
        Format::Jsonl => read_jsonl(path, columns, row),
        Format::Text | Format::Conll => Err(DataError::InvalidConfig {
            what: path.display().to_string(),
            message: "expected a table with named columns (.tsv, .csv or .jsonl)".into(),
        }),
    }
}

fn did_you_mean(wanted: &str, found: &[String]) -> String {
    found
        .iter()
        .map(|f| {
            (
                strsim::levenshtein(&wanted.to_lowercase(), &f.to_lowercase()),
                f,
            )
        })
        .filter(|(d, _)| *d <= 2.max(wanted.len() / 3))
        .min()
        .map(|(_, f)| format!(" (did you mean '{f}'?)"))
        .unwrap_or_default()
}

fn missing_column(path: &Path, line: usize, column: &Column<'_>, header: &[String]) -> DataError {
    DataError::MissingColumn {
        path: path.to_path_buf(),
        line,
        column: column.name.to_string(),
        role: column.role,
        found: header.join(", "),
        hint: did_you_mean(column.name, header),
    }
}

/// Where each column sits in a header (`None`: an optional column the header lacks); the first
/// missing required column is an error.
fn positions(path: &Path, header: &[String], columns: &[Column<'_>]) -> Result<Vec<Option<usize>>> {
    columns
        .iter()
        .map(|c| match header.iter().position(|h| h == c.name) {
            None if c.required => Err(missing_column(path, 1, c, header)),
            at => Ok(at),
        })
        .collect()
}

fn pick<'f>(positions: &[Option<usize>], fields: &[&'f str]) -> Vec<Option<&'f str>> {
    positions.iter().map(|p| p.map(|i| fields[i])).collect()
}

fn read_tsv<T>(
    path: &Path,
    columns: &[Column<'_>],
    mut row: impl FnMut(usize, &[Option<&str>]) -> Result<T>,
) -> Result<Vec<T>> {
    let text = utf8(path, read_bytes(path)?)?;
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.strip_suffix('\r').unwrap_or(l)));
    let header: Vec<String> = loop {
        match lines.next() {
            None => {
                return Err(DataError::EmptyInput {
                    path: path.to_path_buf(),
                    what: "header row",
                });
            }
            Some((_, l)) if l.trim().is_empty() => continue,
            Some((_, l)) => break l.split('\t').map(|h| h.trim().to_string()).collect(),
        }
    };
    let pos = positions(path, &header, columns)?;
    let mut out = Vec::new();
    for (line, l) in lines {
        if l.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = l.split('\t').collect();
        if fields.len() != header.len() {
            return Err(DataError::RaggedRow {
                path: path.to_path_buf(),
                line,
                expected: header.len(),
                found: fields.len(),
            });
        }
        out.push(row(line, &pick(&pos, &fields))?);
    }
    Ok(out)
}

fn read_csv<T>(
    path: &Path,
    columns: &[Column<'_>],
    mut row: impl FnMut(usize, &[Option<&str>]) -> Result<T>,
) -> Result<Vec<T>> {
    let bytes = read_bytes(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(&bytes[..]);
    let csv_err = |e: csv::Error| {
        let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
        match e.kind() {
            csv::ErrorKind::Utf8 { .. } => DataError::InvalidUtf8 {
                path: path.to_path_buf(),
                line,
            },
            _ => DataError::Parse {
                path: path.to_path_buf(),
                line,
                message: e.to_string(),
            },
        }
    };
    let header_bytes = reader.byte_headers().map_err(csv_err)?.clone();
    if header_bytes.is_empty() {
        return Err(DataError::EmptyInput {
            path: path.to_path_buf(),
            what: "header row",
        });
    }
    let mut header = Vec::with_capacity(header_bytes.len());
    for h in header_bytes.iter() {
        let h = std::str::from_utf8(h).map_err(|_| DataError::InvalidUtf8 {
            path: path.to_path_buf(),
            line: 1,
        })?;
        header.push(h.trim_start_matches('\u{feff}').trim().to_string());
    }
    let pos = positions(path, &header, columns)?;
    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(csv_err(e)),
        }
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        if record.len() == 1 && record[0].iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if record.len() != header.len() {
            return Err(DataError::RaggedRow {
                path: path.to_path_buf(),
                line,
                expected: header.len(),
                found: record.len(),
            });
        }
        let mut fields = Vec::with_capacity(record.len());
        for f in record.iter() {
            fields.push(std::str::from_utf8(f).map_err(|_| DataError::InvalidUtf8 {
                path: path.to_path_buf(),
                line,
            })?);
        }
        out.push(row(line, &pick(&pos, &fields))?);
    }
    Ok(out)
}

fn read_jsonl<T>(
    path: &Path,
    columns: &[Column<'_>],
    mut row: impl FnMut(usize, &[Option<&str>]) -> Result<T>,
) -> Result<Vec<T>> {
    let text = utf8(path, read_bytes(path)?)?;
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        if l.trim().is_empty() {
            continue;
        }
        let parse = |message: String| DataError::Parse {
            path: path.to_path_buf(),
            line,
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(l).map_err(|e| parse(format!("invalid JSON: {e}")))?;
        let serde_json::Value::Object(object) = value else {
            return Err(parse("expected a JSON object per line".into()));
        };
        let keys: Vec<String> = object.keys().cloned().collect();
        let get = |column: &Column<'_>| -> Result<Option<String>> {
            match object.get(column.name) {
                None | Some(serde_json::Value::Null) if column.required => {
                    Err(missing_column(path, line, column, &keys))
                }
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
                    Ok(Some(v.to_string()))
                }
                Some(_) => Err(parse(format!(
                    "column '{}' ({}): expected a string, found an array or object",
                    column.name, column.role
                ))),
            }
        };
        let values = columns.iter().map(get).collect::<Result<Vec<_>>>()?;
        let values: Vec<Option<&str>> = values.iter().map(Option::as_deref).collect();
        out.push(row(line, &values)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &tempfile::TempDir, name: &str, body: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        path
    }

    fn rows(path: &Path, columns: &[Column<'_>]) -> Result<Vec<(usize, Vec<Option<String>>)>> {
        let format = Format::from_path(path)?;
        read_rows(path, format, columns, |line, v| {
            Ok((line, v.iter().map(|x| x.map(String::from)).collect()))
        })
    }

    #[test]
    fn tables_give_columns_by_name_with_optional_ones_absent() {
        let dir = tempfile::tempdir().unwrap();
        let cols = [Column::required("b", "text"), Column::optional("z", "pair")];
        let want = vec![
            (2, vec![Some("x y".to_string()), None]),
            (4, vec![Some(" q ".to_string()), None]),
        ];
        let tsv = file(&dir, "t.tsv", b"a\tb\n1\tx y\n\n2\t q \n");
        assert_eq!(rows(&tsv, &cols).unwrap(), want);
        let csv = file(&dir, "t.csv", b"a,b\n1,x y\n\n2,\" q \"\n");
        let from_csv = rows(&csv, &cols).unwrap();
        let values =
            |r: &[(usize, Vec<Option<String>>)]| r.iter().map(|x| x.1.clone()).collect::<Vec<_>>();
        assert_eq!(values(&from_csv), values(&want));
        // The csv crate counts the blank line out: its line numbers are the records' own.
        assert_eq!((from_csv[0].0, from_csv[1].0), (2, 3));
        let jsonl = file(
            &dir,
            "t.jsonl",
            b"{\"b\": \"x y\"}\n\n{\"b\": \" q \", \"z\": null}\n",
        );
        let from_jsonl = rows(&jsonl, &cols).unwrap();
        assert_eq!(from_jsonl[0].1, want[0].1);
        assert_eq!((from_jsonl[1].0, &from_jsonl[1].1), (3, &want[1].1));
    }

    #[test]
    fn a_missing_required_column_and_a_ragged_row_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let tsv = file(&dir, "t.tsv", b"txt\tlabel\nx\ty\n");
        let e = rows(&tsv, &[Column::required("text", "text")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "{}:1: column 'text' (text) not found; the columns are: txt, label (did you mean 'txt'?)",
                tsv.display()
            )
        );
        let ragged = file(&dir, "r.csv", b"text,label\nx,y\nz\n");
        let e = rows(&ragged, &[Column::required("text", "text")]).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("r.csv:3: expected 2 fields like the header, found 1"),
            "{e}"
        );
        let jsonl = file(&dir, "j.jsonl", b"{\"text\": \"a\"}\n{\"txt\": \"b\"}\n");
        let e = rows(&jsonl, &[Column::required("text", "text")]).unwrap_err();
        assert!(matches!(e, DataError::MissingColumn { line: 2, .. }), "{e}");
    }

    #[test]
    fn gzip_is_read_transparently() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"text\nhello\n").unwrap();
        let path = file(&dir, "t.tsv.gz", &gz.finish().unwrap());
        let got = rows(&path, &[Column::required("text", "text")]).unwrap();
        assert_eq!(got, vec![(2, vec![Some("hello".to_string())])]);
    }
}
