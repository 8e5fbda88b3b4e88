//! `export --format hf`: the encoder (and with `--head` its trained head) as a Hugging Face
//! directory whose tokenizer truncates to the run's sequence length.

use super::error::ExportError;
use crate::experiment::artifacts::LoadedEncoder;
use crate::interop::{HfError, HfHead, HfModel};
use crate::model::Pooling;
use crate::task::Target;
use std::path::{Path, PathBuf};

/// What `export --format hf` wrote, as it reports it.
#[derive(Debug, Clone)]
pub struct HfExported {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    /// `LAYOUT: N layers, d_model D(, head over L labels), tokenizer truncating to T tokens`.
    pub described: String,
}

impl std::fmt::Display for HfExported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "wrote {} ({}; {} files)",
            self.dir.display(),
            self.described,
            self.files.len()
        )
    }
}

/// Writes `enc` (with its trained head when `head`) into the directory `out`; the pooling is
/// the head's for a sequence head, else `pooling` (default: the run's). A span head, and an
/// encoder the layout cannot express, are invalid input; a failure while writing is a failure.
pub fn hf_export(
    enc: &LoadedEncoder,
    out: &Path,
    head: bool,
    pooling: Option<Pooling>,
) -> Result<HfExported, ExportError> {
    let args_head = head;
    // The layout of each target: a sequence classifier, a token classifier, or none (span).
    let head = match (&enc.head, args_head) {
        (Some(h), true) => Some(match h.task.target() {
            Target::Class => HfHead::Sequence { labels: &h.labels },
            Target::Tags => HfHead::Tokens { labels: &h.labels },
            Target::Answer => {
                return Err(ExportError::invalid(format!(
                    "a {} (question answering) head has no Hugging Face layout here (hint: export it with --format onnx)",
                    h.task.name()
                )));
            }
        }),
        _ => None,
    };
    let seq_len = enc.head.as_ref().map_or(enc.spec.max_len, |h| h.seq_len);
    // A sequence head pools as it was trained; a token head leaves the choice to `pooling`.
    let pooling = match (&enc.head, args_head) {
        (Some(h), true) => match h.task.target() {
            Target::Class | Target::Answer => h.pooling.into(),
            Target::Tags => pooling.unwrap_or(enc.pooling),
        },
        _ => pooling.unwrap_or(enc.pooling),
    };
    let model = HfModel {
        spec: &enc.spec,
        params: &enc.params,
        tok: &enc.tok,
        seq_len,
        pooling,
        head,
    };
    match crate::interop::write_hf_dir(out, &model) {
        Ok(w) => {
            let s = &enc.spec;
            let labels = match head {
                Some(HfHead::Sequence { labels } | HfHead::Tokens { labels }) => {
                    format!(", head over {} labels", labels.len())
                }
                None => String::new(),
            };
            Ok(HfExported {
                dir: out.to_path_buf(),
                described: format!(
                    "{}: {} layers, d_model {}{labels}, tokenizer truncating to {} tokens",
                    w.layout,
                    s.depth,
                    s.d_model,
                    seq_len.min(s.max_len),
                ),
                files: w.files,
            })
        }
        Err(e @ HfError::Inexpressible { .. }) => {
            Err(ExportError::invalid(format!("{}: {e}", enc.described)))
        }
        Err(e) => Err(ExportError::failed(format!(
            "exporting {} to {}: {e}",
            enc.described,
            out.display()
        ))),
    }
}
