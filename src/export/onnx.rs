//! `export` to ONNX: the encoder alone (its `pooled` output pooled as asked) or with the run's
//! trained head, optionally with its matrix products quantized to int8, written as one `.onnx`
//! file with the tokenizer.json beside it.

use super::error::ExportError;
use super::quantize::{QuantizeCheck, check_int8};
use crate::experiment::artifacts::LoadedEncoder;
use crate::interop::{self, ExportedModel};
use crate::model::Pooling;
use std::path::{Path, PathBuf};

/// What the int8 model is: how much was quantized, and what it loses against the f32 model.
#[derive(Debug, Clone)]
pub struct Int8 {
    /// MatMul nodes replaced by DynamicQuantizeMatMul.
    pub matmuls: usize,
    /// Weight values stored as int8 instead of f32.
    pub weights: usize,
    pub check: QuantizeCheck,
}

impl std::fmt::Display for Int8 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "int8: {} matrix products, {} weights quantized per output column\n{}",
            self.matmuls, self.weights, self.check
        )
    }
}

/// An ONNX model built and not yet written.
pub struct OnnxExport {
    pub model: ExportedModel,
    /// Whether the model has the run's head.
    pub head: bool,
    /// With `--quantize int8`: the model's bytes are the int8 ones.
    pub int8: Option<Int8>,
}

/// Builds the ONNX model of `enc` (from `source`, whose test split the int8 check reads): with
/// its trained head when `head`, else the encoder pooled by `pooling` (default: the run's);
/// quantized to int8 when `int8`. Every error is a failure.
pub fn onnx_export(
    enc: &LoadedEncoder,
    source: &Path,
    head: bool,
    pooling: Option<Pooling>,
    int8: bool,
) -> Result<OnnxExport, ExportError> {
    let exported = if head {
        enc.export_with_head()
    } else {
        enc.export(pooling)
    };
    let mut model = exported.map_err(ExportError::Failed)?;
    let mut quantized = None;
    if int8 {
        let q = interop::quantize_int8(&model.bytes).and_then(|q| {
            let check = check_int8(source, enc, &model.bytes, &q.bytes)?;
            Ok((q, check))
        });
        let (q, check) = q.map_err(|e| ExportError::Failed(e.context("quantizing to int8")))?;
        quantized = Some(Int8 {
            matmuls: q.matmuls,
            weights: q.weights,
            check,
        });
        model.bytes = q.bytes;
    }
    Ok(OnnxExport {
        model,
        head,
        int8: quantized,
    })
}

/// What `export` wrote, as it reports it.
#[derive(Debug, Clone)]
pub struct OnnxWritten {
    pub model: PathBuf,
    pub tokenizer: PathBuf,
    /// `N layers, d_model D(, head over L labels), P parameters, sequence axis …`.
    pub described: String,
}

impl std::fmt::Display for OnnxWritten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "wrote {} ({}) and {}",
            self.model.display(),
            self.described,
            self.tokenizer.display()
        )
    }
}

impl OnnxExport {
    /// Writes the model to `out` (its folder created) and `enc`'s tokenizer.json beside it.
    pub fn write(&self, enc: &LoadedEncoder, out: &Path) -> Result<OnnxWritten, ExportError> {
        let tokenizer = out.with_file_name(interop::TOKENIZER_FILE);
        let written = (|| -> anyhow::Result<()> {
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(out, &self.model.bytes)?;
            enc.tok.save_for_export(&tokenizer)?;
            Ok(())
        })();
        written
            .map_err(|e| ExportError::Failed(e.context(format!("writing {}", out.display()))))?;
        let s = &enc.spec;
        let head = match (&enc.head, self.head) {
            (Some(h), true) => format!(", head over {} labels", h.labels.len()),
            _ => String::new(),
        };
        let described = format!(
            "{} layers, d_model {}{head}, {} parameters, sequence axis {}",
            s.depth,
            s.d_model,
            enc.params.num_values(),
            if self.model.dynamic_sequence {
                "dynamic".to_string()
            } else {
                format!("fixed at {}", s.max_len)
            },
        );
        Ok(OnnxWritten {
            model: out.to_path_buf(),
            tokenizer,
            described,
        })
    }
}
