//! Documents for language-model pretraining: what a corpus or dataset says one document is.
//!
//! A corpus's document is a line (the default) or a run of lines between blank lines
//! (`document = "blank-line"`); a dataset's is a text, or the consecutive train rows that share
//! the value of its `document` column. The filters see lines (a corpus) or examples (a
//! dataset), as they do everywhere else; a document keeps what they left of it, in order, and a
//! document left empty disappears. `packing` turns documents into rows.

use crate::config::{CorpusConfig, DatasetConfig, Document};
use crate::data::dataset::load_dataset;
use crate::data::error::{DataError, Result};
use crate::data::filter::{FilterReport, Filters};
use crate::data::source::{read_text, resolve};
use std::path::Path;

/// One document: its lines, in order (never empty once loaded).
pub type Lines = Vec<String>;

/// A corpus as documents, filtered line by line. The report's first entry counts the blank
/// lines skipped, as `load_corpus`'s does.
pub fn load_corpus_documents(
    cfg: &CorpusConfig,
    base_dir: &Path,
) -> Result<(Vec<Lines>, FilterReport)> {
    let path = resolve(base_dir, &cfg.path);
    let text = read_text(&path)?;
    let tagged: Vec<(usize, String)> = match cfg.document {
        Document::Line => text.lines.into_iter().enumerate().collect(),
        Document::BlankLine => text.paragraph.into_iter().zip(text.lines).collect(),
    };
    let (kept, mut report) = Filters::new(&cfg.filter)?.apply_corpus_by(tagged, |(_, l)| l)?;
    if kept.is_empty() {
        return Err(DataError::EmptyAfterFilter {
            what: path.display().to_string(),
            report: report.summary(),
        });
    }
    report.removed.insert(0, ("blank_lines".into(), text.blank));
    Ok((group_runs(kept), report))
}

/// A dataset's train split as documents: with `document`, the consecutive rows sharing that
/// column's value (their texts, and second texts, its lines); without, one document per text,
/// as the lines of a corpus. Filters apply to the examples as for a downstream stage.
pub fn load_dataset_documents(
    cfg: &DatasetConfig,
    base_dir: &Path,
) -> Result<(Vec<Lines>, FilterReport)> {
    let Some(column) = &cfg.document else {
        let (ds, report) = load_dataset(cfg, base_dir)?;
        let docs = ds
            .train
            .into_iter()
            .flat_map(|e| std::iter::once(e.text).chain(e.text_pair))
            .map(|t| vec![t])
            .collect();
        return Ok((docs, report));
    };
    // The document column is read in the label's place: pretraining reads no label.
    let as_label = DatasetConfig {
        label: column.clone(),
        ..cfg.clone()
    };
    let (ds, report) = load_dataset(&as_label, base_dir).map_err(|e| match e {
        DataError::MissingColumn {
            path,
            line,
            column,
            role: "label",
            found,
            hint,
        } => DataError::MissingColumn {
            path,
            line,
            column,
            role: "document",
            found,
            hint,
        },
        other => other,
    })?;
    let rows = ds.train.into_iter().map(|e| {
        let lines = std::iter::once(e.text).chain(e.text_pair);
        (e.label, lines.collect::<Vec<_>>())
    });
    let mut docs: Vec<(String, Lines)> = Vec::new();
    for (doc, lines) in rows {
        match docs.last_mut() {
            Some((d, kept)) if *d == doc => kept.extend(lines),
            _ => docs.push((doc, lines)),
        }
    }
    Ok((docs.into_iter().map(|(_, l)| l).collect(), report))
}

/// Consecutive items with the same document tag, as one document each.
fn group_runs<T: PartialEq>(tagged: Vec<(T, String)>) -> Vec<Lines> {
    let mut docs: Vec<(T, Lines)> = Vec::new();
    for (tag, line) in tagged {
        match docs.last_mut() {
            Some((t, lines)) if *t == tag => lines.push(line),
            _ => docs.push((tag, vec![line])),
        }
    }
    docs.into_iter().map(|(_, l)| l).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FilterConfig;

    fn corpus(dir: &Path, text: &str, document: Document, filter: FilterConfig) -> Vec<Lines> {
        let path = dir.join("c.txt");
        std::fs::write(&path, text).unwrap();
        let cfg = CorpusConfig {
            path,
            filter,
            document,
        };
        load_corpus_documents(&cfg, Path::new("")).unwrap().0
    }

    #[test]
    fn lines_or_blank_line_separated_documents() {
        let dir = tempfile::tempdir().unwrap();
        let text = "a b\nc d\n\n\ne f\n  \ng h\ni j\n";
        let lines = corpus(dir.path(), text, Document::Line, FilterConfig::default());
        assert_eq!(lines, [["a b"], ["c d"], ["e f"], ["g h"], ["i j"]]);
        let docs = corpus(
            dir.path(),
            text,
            Document::BlankLine,
            FilterConfig::default(),
        );
        assert_eq!(
            docs,
            vec![vec!["a b", "c d"], vec!["e f"], vec!["g h", "i j"]]
        );
        // A filtered line leaves its document; a document with nothing left goes.
        let filter = FilterConfig {
            exclude: Some("^(c|e)".into()),
            ..Default::default()
        };
        let docs = corpus(dir.path(), text, Document::BlankLine, filter);
        assert_eq!(docs, vec![vec!["a b"], vec!["g h", "i j"]]);
    }

    #[test]
    fn a_dataset_column_groups_consecutive_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.tsv");
        std::fs::write(
            &path,
            "text\tlabel\tsplit\tdoc\n\
             one\tx\ttrain\tA\ntwo\tx\ttrain\tA\nheld\tx\tdev\tA\nthree\ty\ttrain\tB\n\
             four\ty\ttrain\tA\n",
        )
        .unwrap();
        let cfg = |document: Option<&str>| DatasetConfig {
            path: Some(path.clone()),
            train: None,
            dev: None,
            test: None,
            text: "text".into(),
            text_pair: None,
            label: "label".into(),
            split: Some("split".into()),
            ratios: None,
            split_seed: 0,
            filter: FilterConfig::default(),
            question: "question".into(),
            context: "context".into(),
            answer: "answer".into(),
            answer_start: "answer_start".into(),
            unseen_labels: Default::default(),
            document: document.map(String::from),
        };
        let (docs, _) = load_dataset_documents(&cfg(Some("doc")), Path::new("")).unwrap();
        // Rows of one document that another interrupts are two documents; dev rows are left out.
        assert_eq!(docs, vec![vec!["one", "two"], vec!["three"], vec!["four"]]);
        let (docs, _) = load_dataset_documents(&cfg(None), Path::new("")).unwrap();
        assert_eq!(docs.len(), 4);
        let e = load_dataset_documents(&cfg(Some("chapter")), Path::new("")).unwrap_err();
        assert!(e.to_string().contains("chapter"), "{e}");
        assert!(e.to_string().contains("document"), "{e}");
    }
}
