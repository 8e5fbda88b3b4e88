//! What every kind of `predict` shares: the run's downstream configuration, and the run's
//! exported model (encoder and head, as `export --head` writes it) as a session fed with
//! encoded rows.

use crate::config::{DatasetConfig, DownstreamConfig, Experiment};
use crate::data::Row;
use crate::experiment::artifacts::LoadedEncoder;
use crate::runtime::{Feeds, Outputs, Session, SessionOptions};
use anyhow::{Context, Result};
use std::path::Path;

/// The run's downstream stage and its dataset, from the run's `config.toml`.
pub(crate) fn run_downstream(run_dir: &Path) -> Result<(DownstreamConfig, DatasetConfig)> {
    let path = run_dir.join("config.toml");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let exp: Experiment = toml::from_str(&text)
        .with_context(|| format!("{}: not a run configuration", path.display()))?;
    let d = exp
        .downstream
        .values()
        .next()
        .with_context(|| format!("{}: no downstream stage", path.display()))?;
    let ds = exp
        .dataset
        .get(&d.data)
        .with_context(|| format!("{}: no downstream dataset", path.display()))?;
    Ok((d.clone(), ds.clone()))
}

/// The run's whole model (as `export --head` writes it) in a session, and the row length it
/// reads.
pub(crate) struct RowModel {
    session: Session,
    segment: bool,
    /// The row length: the stage's `seq_len`, or the encoder's maximum when the exported model
    /// has a fixed length.
    pub seq: usize,
}

impl RowModel {
    pub(crate) fn new(enc: &LoadedEncoder, threads: Option<usize>) -> Result<RowModel> {
        let head = enc.head.as_ref().context("no trained head")?;
        let model = enc.export_with_head()?;
        let opts = SessionOptions {
            intra_threads: threads,
            ..Default::default()
        };
        let session = Session::from_bytes(&enc.described, &model.bytes, &opts)?;
        let segment = session.inputs().iter().any(|i| i.name == "token_type_ids");
        let seq = if model.dynamic_sequence {
            head.seq_len
        } else {
            enc.spec.max_len
        };
        Ok(RowModel {
            session,
            segment,
            seq,
        })
    }

    /// Runs encoded rows (each `seq` long) as one batch.
    pub(crate) fn run<'r>(&mut self, rows: impl Iterator<Item = &'r Row>) -> Result<Outputs<'_>> {
        let (mut ids, mut mask, mut types) = (Vec::new(), Vec::new(), Vec::new());
        for r in rows {
            ids.extend_from_slice(&r.input_ids);
            mask.extend_from_slice(&r.attention_mask);
            types.extend_from_slice(&r.token_type_ids);
        }
        let shape = [ids.len() / self.seq.max(1), self.seq];
        let mut feeds = Feeds::new();
        feeds
            .i64("input_ids", &shape, &ids)
            .i64("attention_mask", &shape, &mask);
        if self.segment {
            feeds.i64("token_type_ids", &shape, &types);
        }
        Ok(self.session.run(&feeds)?)
    }
}
