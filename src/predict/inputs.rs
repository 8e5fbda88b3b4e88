//! `predict`'s inputs, read by the one reader datasets are read with (`data::source`), with its
//! errors, which name the file and the line. A `.tsv`, `.csv` or `.jsonl` file (each optionally
//! `.gz`) is a table read by the run's dataset column names; any other file holds one text per
//! line, every line (blank ones too) as it stands. Values are not trimmed: each output row
//! starts with its input as it was read.

use crate::data::source::{Column, read_lines, read_rows};
use crate::data::{DataError, Format};
use std::path::Path;

type Result<T> = std::result::Result<T, DataError>;

/// One input: a text, and the second text of a pair task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub text: String,
    pub pair: Option<String>,
}

/// The table format of `path` when its name says it holds one, else `None` (one text per line).
fn table_format(path: &Path) -> Option<Format> {
    match Format::from_path(path) {
        Ok(f @ (Format::Tsv | Format::Csv | Format::Jsonl)) => Some(f),
        _ => None,
    }
}

/// `--input` is a path the user gave on the command line: a missing file is said without the
/// datasets' hint about experiment-relative paths.
fn input_error(e: DataError) -> DataError {
    match e {
        DataError::MissingFile { path } => DataError::MissingInput { path },
        e => e,
    }
}

/// Reads the inputs of a classify, pair or tag run: a table by the dataset's text columns
/// (`text`, and `text_pair`, which a pair run needs), anything else one text per line.
pub fn read_inputs(
    path: &Path,
    text: &str,
    text_pair: Option<&str>,
    pair: bool,
) -> Result<Vec<Input>> {
    let pair_name = text_pair.unwrap_or("text_pair");
    let Some(format) = table_format(path) else {
        let lines = read_lines(path).map_err(input_error)?;
        if pair {
            return Err(DataError::InvalidConfig {
                what: path.display().to_string(),
                message: format!(
                    "a pair run needs a .tsv, .csv or .jsonl file with the columns '{text}' and '{pair_name}'"
                ),
            });
        }
        return Ok(lines
            .into_iter()
            .map(|text| Input { text, pair: None })
            .collect());
    };
    let mut columns = vec![Column::required(text, "text")];
    if pair {
        columns.push(Column::required(pair_name, "text_pair"));
    } else if let Some(p) = text_pair {
        columns.push(Column::optional(p, "text_pair"));
    }
    read_rows(path, format, &columns, |_, values| {
        Ok(Input {
            text: values[0].unwrap_or("").to_string(),
            pair: values.get(1).copied().flatten().map(String::from),
        })
    })
    .map_err(input_error)
}

/// Reads the (question, context) pairs of a span run from a table with the dataset's column
/// names (`question`, `context` by default).
pub fn read_span_inputs(
    path: &Path,
    question: &str,
    context: &str,
) -> Result<Vec<(String, String)>> {
    let Some(format) = table_format(path) else {
        return Err(DataError::InvalidConfig {
            what: path.display().to_string(),
            message: format!(
                "a span run reads questions and contexts from a .tsv or .csv (header row) or .jsonl file with the columns '{question}' and '{context}'"
            ),
        });
    };
    let columns = [
        Column::required(question, "question"),
        Column::required(context, "context"),
    ];
    read_rows(path, format, &columns, |_, values| {
        let field = |i: usize| values[i].unwrap_or("").to_string();
        Ok((field(0), field(1)))
    })
    .map_err(input_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(dir: &tempfile::TempDir, name: &str, body: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        path
    }

    fn texts(inputs: &[Input]) -> Vec<&str> {
        inputs.iter().map(|i| i.text.as_str()).collect()
    }

    #[test]
    fn plain_lines_keep_every_line_as_it_stands() {
        let dir = tempfile::tempdir().unwrap();
        let path = file(&dir, "in.txt", b"one text\r\n\n  two  \n");
        let inputs = read_inputs(&path, "text", None, false).unwrap();
        assert_eq!(texts(&inputs), ["one text", "", "  two  "]);
        // No extension at all is plain lines too.
        let bare = file(&dir, "inputs", b"a\nb\n");
        assert_eq!(
            texts(&read_inputs(&bare, "text", None, false).unwrap()),
            ["a", "b"]
        );
    }

    #[test]
    fn tables_are_read_by_the_dataset_columns_in_every_format() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let want = vec![
            Input {
                text: "a, b".into(),
                pair: Some("c".into()),
            },
            Input {
                text: "d".into(),
                pair: Some("e".into()),
            },
        ];
        let tsv = file(
            &dir,
            "in.tsv",
            b"split\tsent\tsent2\ntest\ta, b\tc\ntest\td\te\n",
        );
        let csv = file(&dir, "in.csv", b"sent,sent2\n\"a, b\",c\nd,e\n");
        let jsonl = file(
            &dir,
            "in.jsonl",
            b"{\"sent\": \"a, b\", \"sent2\": \"c\"}\n\n{\"sent\": \"d\", \"sent2\": \"e\"}\n",
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"sent\tsent2\na, b\tc\nd\te\n").unwrap();
        let tsv_gz = file(&dir, "in.tsv.gz", &gz.finish().unwrap());
        for path in [tsv, csv, jsonl, tsv_gz] {
            let got = read_inputs(&path, "sent", Some("sent2"), true).unwrap();
            assert_eq!(got, want, "{}", path.display());
        }
    }

    #[test]
    fn a_one_text_run_reads_no_pair_it_lacks() {
        let dir = tempfile::tempdir().unwrap();
        let tsv = file(&dir, "in.tsv", b"text\nhello\n");
        let got = read_inputs(&tsv, "text", Some("text_pair"), false).unwrap();
        assert_eq!(
            got,
            vec![Input {
                text: "hello".into(),
                pair: None
            }]
        );
    }

    #[test]
    fn bad_inputs_name_the_file_and_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let tsv = file(&dir, "in.tsv", b"text\tlabel\nx\ty\n");
        let e = read_inputs(&tsv, "text", Some("text_pair"), true).unwrap_err();
        assert!(
            e.to_string().contains(
                "in.tsv:1: column 'text_pair' (text_pair) not found; the columns are: text, label"
            ),
            "{e}"
        );
        let lines = file(&dir, "in.txt", b"x\n");
        let e = read_inputs(&lines, "text", Some("text_pair"), true).unwrap_err();
        assert!(
            e.to_string()
                .ends_with("in.txt: a pair run needs a .tsv, .csv or .jsonl file with the columns 'text' and 'text_pair'"),
            "{e}"
        );
        let jsonl = file(&dir, "in.jsonl", b"{\"text\": \"a\"}\nnot json\n");
        let e = read_inputs(&jsonl, "text", None, false).unwrap_err();
        assert!(e.to_string().contains("in.jsonl:2: invalid JSON"), "{e}");
        let missing = dir.path().join("nope.tsv");
        let e = read_inputs(&missing, "text", None, false).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}: file not found", missing.display())
        );
    }

    #[test]
    fn span_inputs_are_questions_and_contexts_from_a_table() {
        let dir = tempfile::tempdir().unwrap();
        let tsv = file(
            &dir,
            "q.tsv",
            b"question\tcontext\nwhat is it\tit is a stone\n",
        );
        let csv = file(
            &dir,
            "q.csv",
            b"question,context\nwhat is it,\"it is a stone\"\n",
        );
        for path in [tsv, csv] {
            let got = read_span_inputs(&path, "question", "context").unwrap();
            assert_eq!(
                got,
                [("what is it".to_string(), "it is a stone".to_string())]
            );
        }
        let txt = file(&dir, "q.txt", b"what is it\n");
        let e = read_span_inputs(&txt, "question", "context").unwrap_err();
        assert!(e.to_string().contains("a span run reads questions"), "{e}");
    }
}
