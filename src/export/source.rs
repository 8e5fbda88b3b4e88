//! Which encoder a path names: for `export`, a run or a BERT-family model directory (with the
//! run's trained head when `--head` asks for it); for `embed`, also an exported `.onnx` with its
//! tokenizer.json.

use super::error::ExportError;
use crate::experiment::artifacts::{LoadedEncoder, ModelPath, resolve_model_path};
use crate::interop::Embedder;
use std::path::Path;

/// The encoder `export` writes: an exported `.onnx` is not one, and `--head` (`head`) needs a
/// run whose downstream stage saved its model. Every error is invalid input.
pub fn source_encoder(source: &Path, head: bool) -> Result<LoadedEncoder, ExportError> {
    let enc = match resolve_model_path(source) {
        Ok(ModelPath::Encoder(e)) => *e,
        Ok(ModelPath::Onnx { .. }) => {
            return Err(ExportError::invalid(format!(
                "{}: already an ONNX model; export takes a run directory or a model directory",
                source.display()
            )));
        }
        Err(e) => return Err(ExportError::Invalid(e)),
    };
    if head && enc.head.is_none() {
        return Err(ExportError::invalid(format!(
            "{}: --head needs a run whose downstream stage saved its model ({} has no trained head; rerun it with this version)",
            source.display(),
            enc.described
        )));
    }
    Ok(enc)
}

/// The model `embed` runs: an exported `.onnx` (tokenizer.json beside it), or the encoder of a
/// run or model directory exported on the fly. Every error is invalid input.
pub fn embedder(model: &Path, threads: Option<usize>) -> Result<Embedder, ExportError> {
    resolve_model_path(model)
        .and_then(|m| match m {
            ModelPath::Onnx { model, tokenizer } => {
                let bytes = std::fs::read(&model)
                    .map_err(|e| anyhow::anyhow!("reading {}: {e}", model.display()))?;
                let tok = crate::data::Tok::load(&tokenizer)?;
                Embedder::new(&model.display().to_string(), &bytes, tok, threads)
            }
            ModelPath::Encoder(enc) => {
                let model = enc.export(None)?;
                Embedder::new(&enc.described, &model.bytes, enc.tok, threads)
            }
        })
        .map_err(ExportError::Invalid)
}
