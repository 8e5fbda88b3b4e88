//! `embedlab export` and `embedlab embed`: a run's or a BERT-family model directory's encoder out
//! of embedlab, as a standalone ONNX model (with the run's trained head; int8, with what it loses
//! measured on the run's test split) or a Hugging Face directory, and texts to vectors.
//!
//! - `source`: which encoder a path names, for export and for embed;
//! - `onnx`: the ONNX file and the tokenizer beside it; `quantize`: the int8 check;
//! - `hf`: the Hugging Face directory; `embed`: lines to vectors;
//! - `error`: whose fault a failure is (the command maps it to an exit code).
//!
//! Imports `experiment` (a run's artifacts), `interop`, `data`, `model` and `config`; nothing
//! imports it but the binary.
mod embed;
mod error;
mod hf;
mod onnx;
mod quantize;
mod source;

pub use embed::{EmbedError, VectorFormat, embed_lines};
pub use error::ExportError;
pub use hf::{HfExported, hf_export};
pub use onnx::{Int8, OnnxExport, OnnxWritten, onnx_export};
pub use quantize::{QuantizeCheck, check_int8};
pub use source::{embedder, source_encoder};
