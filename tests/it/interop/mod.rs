//! Interop: `export` and `embed`, BERT-family import, the real MiniLM model.
mod artifacts;
mod export;
mod import;
mod minilm;
