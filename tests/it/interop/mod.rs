//! Interop: `export` and `embed`, BERT-family import, the real MiniLM model, Hugging Face export.
mod artifacts;
mod export;
mod hf;
mod import;
mod minilm;
mod quantize;
