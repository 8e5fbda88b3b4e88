//! Interop: `export` and `embed`, BERT-family import, the real MiniLM model.
mod export;
mod import;
mod minilm;
