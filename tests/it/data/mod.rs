//! Data: sources, filters, tokenizers, batching, the shipped files.
mod batch;
mod filter;
mod pipeline;
mod shipped;
mod source;
mod tokenizer;
