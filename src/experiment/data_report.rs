//! What the data files hold after filtering, before anything runs: the `data` section of
//! `embedlab plan`. Every corpus and dataset of every cell is read and filtered as a run reads
//! it (each once), so a data error is found as invalid input before compute.

use super::plan::Plan;
use crate::data::{self, DataError};
use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::Path;

/// A corpus or dataset of the plan that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct DataReportError {
    /// `corpus.NAME` or `dataset.NAME`.
    pub what: String,
    #[source]
    pub source: Box<DataError>,
}

/// One line per corpus and dataset: how many examples each filter removed, and for a dataset
/// its splits and labels (a span dataset: its questions per split).
pub fn data_report(plan: &Plan) -> Result<String, DataReportError> {
    let mut seen = BTreeSet::new();
    let mut out = String::from("\ndata (after filters)\n");
    let error = |what: String| {
        move |source: DataError| DataReportError {
            what,
            source: Box::new(source),
        }
    };
    for cell in &plan.cells {
        let e = &cell.experiment;
        for (name, c) in &e.corpus {
            if seen.insert(format!("corpus.{name}:{c:?}")) {
                let (_, report) =
                    data::load_corpus(c, Path::new("")).map_err(error(format!("corpus.{name}")))?;
                let _ = writeln!(out, "  corpus.{name}: {}", report.summary());
            }
        }
        for (name, d) in &e.dataset {
            let span = e
                .downstream
                .values()
                .any(|s| s.data == *name && s.task.target() == crate::task::Target::Answer);
            if span && seen.insert(format!("dataset.{name}:{d:?}")) {
                let ds = data::load_span_dataset(d, Path::new(""))
                    .map_err(error(format!("dataset.{name}")))?;
                let _ = writeln!(
                    out,
                    "  dataset.{name}: span questions (train {}, dev {}, test {})",
                    ds.train.len(),
                    ds.dev.len(),
                    ds.test.len(),
                );
            }
            if !span && seen.insert(format!("dataset.{name}:{d:?}")) {
                let (ds, report) = data::load_dataset(d, Path::new(""))
                    .map_err(error(format!("dataset.{name}")))?;
                let _ = writeln!(
                    out,
                    "  dataset.{name}: {} (train {}, dev {}, test {}; {} labels)",
                    report.summary(),
                    ds.train.len(),
                    ds.dev.len(),
                    ds.test.len(),
                    ds.labels.len()
                );
            }
        }
    }
    Ok(out)
}
