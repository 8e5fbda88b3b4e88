//! The checkpoint of a downstream epoch loop in progress: everything the loop needs to go on
//! where it stopped, in one safetensors file written atomically (`runtime::save_checkpoint`).
//!
//! - the parameters and the optimizer state (its step included);
//! - the best dev epoch's parameters so far, as an extra optimizer slot named [`BEST`] (same
//!   layout as the parameters; removed again on loading);
//! - in the metadata: the epoch in progress and how many of its batches are done, the number of
//!   batches an epoch has (a check), the last training loss, the early-stopping counter, the best
//!   dev accuracy, and the learning-curve points reported so far (so that curves.csv is whole).
//!
//! Floats are stored as their bit patterns (u64), so a resumed loop reports the same values to
//! the last bit. The data order is not stored: the loop reshuffles with its seeded generator
//! from the first epoch, which replays the order of every epoch exactly.

use super::trainer::Trainer;
use crate::runtime::{self, Metadata, OptState, ParamStore};
use anyhow::Result;
use serde_json::{Value, json};
use std::path::Path;

/// The optimizer-slot name under which the best epoch's parameters are saved.
const BEST: &str = "best";

/// A learning-curve point: (split, metric, step, value).
pub(super) type Point = (String, String, u64, f64);

/// Where an epoch loop stands.
pub(super) struct Position {
    /// The epoch in progress (0-based); equal to the number of finished epochs at an epoch end.
    pub epoch: u32,
    /// Batches of that epoch already trained.
    pub done: usize,
    /// Batches per epoch.
    pub batches: usize,
    pub last_loss: f64,
    pub since_best: u32,
}

/// A loop's state read back from its checkpoint (the parameters and optimizer state are put
/// into the trainer).
pub(super) struct Resumed {
    pub at: Position,
    pub best: Option<(f64, ParamStore)>,
    pub points: Vec<Point>,
}

/// Writes the loop's state to `path` atomically.
pub(super) fn save(
    path: &Path,
    tr: &Trainer,
    at: &Position,
    best: Option<&(f64, ParamStore)>,
    points: &[Point],
) -> Result<()> {
    let mut meta = Metadata::new();
    meta.insert("epoch".into(), json!(at.epoch));
    meta.insert("done".into(), json!(at.done));
    meta.insert("batches".into(), json!(at.batches));
    meta.insert("step".into(), json!(tr.opt.step));
    meta.insert("last_loss_bits".into(), json!(at.last_loss.to_bits()));
    meta.insert("since_best".into(), json!(at.since_best));
    if let Some((acc, _)) = best {
        meta.insert("best_accuracy_bits".into(), json!(acc.to_bits()));
    }
    let points: Vec<Value> = points
        .iter()
        .map(|(split, metric, step, v)| json!([split, metric, step, v.to_bits()]))
        .collect();
    meta.insert("points".into(), Value::Array(points));
    let opt = match best {
        Some((_, params)) => {
            let mut opt = tr.opt.clone();
            opt.insert_slot(BEST, params.clone())?;
            opt
        }
        None => tr.opt.clone(),
    };
    runtime::save_checkpoint(path, &tr.params, Some(&opt), &meta)?;
    Ok(())
}

/// Reads the checkpoint at `path`, if there is one, into `tr` (parameters and optimizer state)
/// and returns the rest of the loop's state. A checkpoint that does not fit this loop (other
/// parameters, optimizer slots or batches per epoch: written by another version) is ignored
/// with a note, and the loop starts over.
pub(super) fn load(path: &Path, tr: &mut Trainer, batches: usize) -> Result<Option<Resumed>> {
    if !path.exists() {
        return Ok(None);
    }
    let ck = runtime::load_checkpoint(path)?;
    match resumed(ck, tr, batches) {
        Ok(r) => Ok(Some(r)),
        Err(why) => {
            eprintln!(
                "note: ignoring the checkpoint {} ({why}); training starts over",
                path.display()
            );
            Ok(None)
        }
    }
}

/// The loop's state of a checkpoint, put into `tr` when it fits; else why it does not.
fn resumed(ck: runtime::Checkpoint, tr: &mut Trainer, batches: usize) -> Result<Resumed, String> {
    let meta = &ck.meta;
    let uint = |key: &str| -> Result<u64, String> {
        meta.get(key)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("metadata '{key}' is missing or not a number"))
    };
    let at = Position {
        epoch: u32::try_from(uint("epoch")?).map_err(|e| e.to_string())?,
        done: uint("done")? as usize,
        batches: uint("batches")? as usize,
        last_loss: f64::from_bits(uint("last_loss_bits")?),
        since_best: u32::try_from(uint("since_best")?).map_err(|e| e.to_string())?,
    };
    if at.batches != batches {
        return Err(format!(
            "{} batches per epoch, this stage has {batches}",
            at.batches
        ));
    }
    if !ck.params.same_layout(&tr.params) {
        return Err("its parameters are not this stage's".into());
    }
    let saved = ck.opt.ok_or("no optimizer state")?;
    if saved.step != uint("step")? {
        return Err("its optimizer step disagrees with its metadata".into());
    }
    let mut opt = OptState::default();
    opt.step = saved.step;
    for slot in tr.opt.slot_names() {
        let store = saved
            .slot(slot)
            .ok_or_else(|| format!("optimizer slot '{slot}' is missing"))?;
        opt.insert_slot(slot, store.clone())
            .map_err(|e| e.to_string())?;
    }
    let best = match (meta.get("best_accuracy_bits"), saved.slot(BEST)) {
        (Some(bits), Some(params)) => {
            let bits = bits
                .as_u64()
                .ok_or("metadata 'best_accuracy_bits' is not a number")?;
            Some((f64::from_bits(bits), params.clone()))
        }
        (None, None) => None,
        _ => return Err("the best epoch's score and parameters are not saved together".into()),
    };
    let points = meta
        .get("points")
        .and_then(Value::as_array)
        .ok_or("metadata 'points' is missing")?
        .iter()
        .map(|p| match p.as_array().map(Vec::as_slice) {
            Some([split, metric, step, bits]) => Some((
                split.as_str()?.to_string(),
                metric.as_str()?.to_string(),
                step.as_u64()?,
                f64::from_bits(bits.as_u64()?),
            )),
            _ => None,
        })
        .collect::<Option<Vec<Point>>>()
        .ok_or("metadata 'points' is malformed")?;
    tr.params = ck.params;
    tr.opt = opt;
    Ok(Resumed { at, best, points })
}
