//! Sources: reading data files into memory.
//!
//! Responsible for turning a file into lines (plain text corpora, `predict`'s texts) or records
//! with named columns (TSV, CSV, JSONL datasets, through the one table reader in `table`, which
//! reads `predict`'s tables too). Gzip is detected from the file's magic bytes, so `.gz` is
//! read transparently. Errors name the file and the line (counted in the decompressed text,
//! from 1). Nothing here filters or splits; that is `filter` and `dataset`.

mod table;

use crate::data::error::{DataError, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

pub use table::{Column, read_rows};

/// One labeled example. For tagging, `label` holds one BIO tag per whitespace-separated word.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Example {
    pub text: String,
    pub text_pair: Option<String>,
    pub label: String,
}

/// The three splits of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Split {
    Train,
    Dev,
    Test,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::Train, Split::Dev, Split::Test];

    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Dev => "dev",
            Split::Test => "test",
        }
    }

    /// Parses a split column value: train, dev (validation, valid, val), test; case-insensitive.
    pub fn parse(value: &str) -> Option<Split> {
        match value.trim().to_ascii_lowercase().as_str() {
            "train" => Some(Split::Train),
            "dev" | "validation" | "valid" | "val" => Some(Split::Dev),
            "test" => Some(Split::Test),
            _ => None,
        }
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An example as read from a file: its split (when the file has a split column) and its line.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub example: Example,
    pub split: Option<Split>,
    pub line: usize,
}

/// Which columns of a table hold what.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    pub text: &'a str,
    pub text_pair: Option<&'a str>,
    pub label: &'a str,
    pub split: Option<&'a str>,
}

/// File formats, told from the file name (a trailing `.gz` is ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Tsv,
    Csv,
    Jsonl,
    /// Token/tag lines for tagging: `token<TAB>tag` (or space-separated, tag last), a blank line
    /// between sentences, optional `# ...` comment lines. Becomes text = the tokens joined by
    /// spaces, label = the tags joined by spaces; no columns and no split column.
    Conll,
}

impl Format {
    pub fn from_path(path: &Path) -> Result<Format> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        match ext {
            "txt" | "text" => Ok(Format::Text),
            "tsv" | "tab" => Ok(Format::Tsv),
            "csv" => Ok(Format::Csv),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "conll" | "bio" => Ok(Format::Conll),
            _ => Err(DataError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// Lines of a plain text file: the non-blank lines (trailing `\r` and surrounding whitespace
/// removed) and how many blank lines were skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TextLines {
    pub lines: Vec<String>,
    pub blank: usize,
    /// Each line's paragraph (a run of non-blank lines between blank lines), counted from 0.
    pub paragraph: Vec<usize>,
}

/// Reads a whole file, decompressing it if it starts with the gzip magic bytes.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(raw.len() * 3);
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| DataError::Gzip {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// Checks the bytes are UTF-8 and returns them as text, or names the first bad line.
pub(crate) fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String> {
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                s.drain(..3);
            }
            Ok(s)
        }
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
            Err(DataError::InvalidUtf8 {
                path: path.to_path_buf(),
                line,
            })
        }
    }
}

/// Reads a plain text file, one document per line. Blank lines are skipped and counted.
pub fn read_text(path: &Path) -> Result<TextLines> {
    let text = utf8(path, read_bytes(path)?)?;
    let mut out = TextLines::default();
    let (mut paragraph, mut after_blank) = (0, false);
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            out.blank += 1;
            after_blank = true;
        } else {
            if after_blank && !out.lines.is_empty() {
                paragraph += 1;
            }
            after_blank = false;
            out.lines.push(line.to_string());
            out.paragraph.push(paragraph);
        }
    }
    if out.lines.is_empty() {
        return Err(DataError::EmptyInput {
            path: path.to_path_buf(),
            what: "non-blank lines",
        });
    }
    Ok(out)
}

/// Every line of a text file as stored (blank ones too; a trailing `\r` removed), gzip and
/// UTF-8 checked as for every other file: `predict`'s one text per line.
pub fn read_lines(path: &Path) -> Result<Vec<String>> {
    Ok(utf8(path, read_bytes(path)?)?
        .lines()
        .map(String::from)
        .collect())
}

/// Reads a TSV, CSV or JSONL file (told from its name) into records with the named columns,
/// through the one table reader (`read_rows`; a `.conll` file by its own layout). Texts and
/// labels must be non-empty (they are trimmed) and the split, where there is a split column,
/// known. Blank lines are skipped.
pub fn read_table(path: &Path, columns: &Columns<'_>) -> Result<Vec<Record>> {
    let records = match Format::from_path(path)? {
        format @ (Format::Tsv | Format::Csv | Format::Jsonl) => {
            // The columns in this order: a file missing several names the first.
            let mut wanted = vec![Column::required(columns.text, "text")];
            wanted.extend(columns.text_pair.map(|c| Column::required(c, "text_pair")));
            wanted.push(Column::required(columns.label, "label"));
            wanted.extend(columns.split.map(|c| Column::required(c, "split")));
            read_rows(path, format, &wanted, |line, fields| {
                // Every column is required, so every field is there.
                let mut fields = fields.iter().map(|f| f.unwrap_or(""));
                let mut next = || fields.next().unwrap_or("");
                let values = Values {
                    text: next(),
                    text_pair: columns.text_pair.map(|_| next()),
                    label: next(),
                    split: columns.split.map(|_| next()),
                };
                record(path, line, values, columns)
            })?
        }
        Format::Conll => read_conll(path)?,
        Format::Text => {
            return Err(DataError::InvalidConfig {
                what: path.display().to_string(),
                message: "a dataset needs a table with named columns (.tsv, .csv or .jsonl); plain text is for corpora".into(),
            });
        }
    };
    if records.is_empty() {
        return Err(DataError::EmptyInput {
            path: path.to_path_buf(),
            what: "rows after the header",
        });
    }
    Ok(records)
}

fn non_empty(
    path: &Path,
    line: usize,
    column: &str,
    role: &'static str,
    value: &str,
) -> Result<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DataError::EmptyField {
            path: path.to_path_buf(),
            line,
            column: column.to_string(),
            role,
        });
    }
    Ok(value.to_string())
}

fn split_value(path: &Path, line: usize, value: &str) -> Result<Split> {
    Split::parse(value).ok_or_else(|| DataError::UnknownSplit {
        path: path.to_path_buf(),
        line,
        found: value.to_string(),
    })
}

/// The values of one row for each role.
struct Values<'a> {
    text: &'a str,
    text_pair: Option<&'a str>,
    label: &'a str,
    split: Option<&'a str>,
}

/// Builds a record from a row's values: texts and label must be non-empty, the split known.
fn record(path: &Path, line: usize, v: Values<'_>, columns: &Columns<'_>) -> Result<Record> {
    let text = non_empty(path, line, columns.text, "text", v.text)?;
    let text_pair = match (v.text_pair, columns.text_pair) {
        (Some(p), Some(c)) => Some(non_empty(path, line, c, "text_pair", p)?),
        _ => None,
    };
    let label = non_empty(path, line, columns.label, "label", v.label)?;
    let split = v.split.map(|s| split_value(path, line, s)).transpose()?;
    Ok(Record {
        example: Example {
            text,
            text_pair,
            label,
        },
        split,
        line,
    })
}

fn read_conll(path: &Path) -> Result<Vec<Record>> {
    let text = utf8(path, read_bytes(path)?)?;
    let mut out = Vec::new();
    let (mut words, mut tags, mut start) = (Vec::new(), Vec::new(), 0);
    let mut flush = |words: &mut Vec<&str>, tags: &mut Vec<&str>, start: usize| {
        if !words.is_empty() {
            let example = Example {
                text: words.join(" "),
                text_pair: None,
                label: tags.join(" "),
            };
            out.push(Record {
                example,
                split: None,
                line: start,
            });
            words.clear();
            tags.clear();
        }
    };
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        let l = l.trim();
        if l.is_empty() {
            flush(&mut words, &mut tags, start);
            continue;
        }
        if l.starts_with('#') && words.is_empty() {
            continue;
        }
        let mut parts = if l.contains('\t') {
            l.split('\t').collect::<Vec<_>>()
        } else {
            l.split_whitespace().collect()
        };
        parts.retain(|p| !p.trim().is_empty());
        if parts.len() < 2 {
            return Err(DataError::Parse {
                path: path.to_path_buf(),
                line,
                message: format!("expected 'token<TAB>tag', found {l:?}"),
            });
        }
        if words.is_empty() {
            start = line;
        }
        words.push(parts[0].trim());
        tags.push(parts[parts.len() - 1].trim());
    }
    flush(&mut words, &mut tags, start);
    Ok(out)
}

/// sha256 (hex) of a file's bytes as stored, for stage keys: editing a data file changes the
/// keys of the stages that read it.
pub fn digest(path: &Path) -> Result<String> {
    use sha2::Digest;
    let raw = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    Ok(hex::encode(sha2::Sha256::digest(&raw)))
}

/// Resolves a data path against the experiment file's directory (absolute paths stay as they are).
pub fn resolve(base_dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base_dir.join(path)
    }
}
