//! Interop with other tools: BERT-family model directories imported as our encoder (names,
//! layouts and vocabulary ids mapped onto ours), standalone ONNX inference models of an encoder
//! (symbolic batch and sequence axes, weights as initializers), optionally with a trained task
//! head, embedding texts with one, and Hugging Face directories of an encoder (the inverse of
//! the import).
//! Imports `model`, `data`, `runtime` and `graph`; never `experiment`.
mod bert;
mod embed;
mod hf;
mod onnx;
mod quantize;
mod vocab;

pub use bert::{
    BertConfig, CONFIG_FILE, ImportError, Imported, TOKENIZER_FILE, WEIGHTS_FILE, import_dir,
    is_model_dir, read_vocab,
};
pub use embed::{EmbedOptions, Embedder};
pub use hf::{
    DENSE_DIR, HfError, HfHead, HfModel, HfWritten, POOLING_DIR, check_expressible, write_hf_dir,
};
pub use onnx::{
    ExportedModel, LOGITS, ModelHead, POOLED, PROBABILITIES, TOKEN_FEATURES, encoder_model,
    metadata, task_model,
};
pub use quantize::{Quantized, quantize_columns, quantize_int8};
pub use vocab::{AdoptedVocab, adopt_tokenizer, permute_rows};
