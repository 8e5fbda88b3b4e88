//! Exporting an encoder (and its trained head) as a Hugging Face model directory: a `BertModel`
//! that is also a sentence-transformers model, or a `BertForTokenClassification` for tagging.
//! The mapping of names and layouts is the exact inverse of the BERT import.
mod config;
mod error;
mod layout;
mod tokenizer;
mod weights;

pub use config::check_expressible;
pub use error::HfError;
pub use layout::{DENSE_DIR, HfHead, HfModel, HfWritten, POOLING_DIR, write_hf_dir};
