//! What can go wrong in `export` and `embed`, split by whose fault it is: the command maps
//! `Invalid` to exit code 2 (nothing was written) and `Failed` to exit code 1.

/// An export (or the loading of an embedding model) that did not happen, or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The path names no usable model (or an already exported one), `--head` was asked of an
    /// encoder without a trained head, or the Hugging Face layout cannot express the encoder.
    #[error("{0:#}")]
    Invalid(anyhow::Error),
    /// Building, quantizing or writing the model failed.
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

impl ExportError {
    pub(crate) fn invalid(message: impl std::fmt::Display) -> ExportError {
        ExportError::Invalid(anyhow::anyhow!("{message}"))
    }

    pub(crate) fn failed(message: impl std::fmt::Display) -> ExportError {
        ExportError::Failed(anyhow::anyhow!("{message}"))
    }
}
