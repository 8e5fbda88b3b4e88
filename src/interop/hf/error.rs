//! What can go wrong writing a Hugging Face directory.

use std::path::PathBuf;

/// Why an encoder was not exported in the Hugging Face layout.
#[derive(Debug, thiserror::Error)]
pub enum HfError {
    /// The encoder computes something a `BertModel` cannot (each entry names the setting).
    #[error(
        "a Hugging Face BertModel cannot express this encoder:\n  - {}\n(hint: only post-LN encoders with learned word and position embeddings and bidirectional attention export to --format hf; --format onnx exports any encoder)",
        settings.join("\n  - ")
    )]
    Inexpressible { settings: Vec<String> },
    #[error("the parameters do not fit a BertModel:\n  - {}", problems.join("\n  - "))]
    Params { problems: Vec<String> },
    #[error("the head: {message}")]
    Head { message: String },
    #[error("the tokenizer: {message}")]
    Tokenizer { message: String },
    #[error("writing {path}: {message}")]
    Write { path: PathBuf, message: String },
}
