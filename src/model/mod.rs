//! The model zoo: embeddings, Transformer encoder, heads, losses and task graphs, built with `graph`.
mod encoder;
mod params;
mod span;
mod tasks;
mod word2vec;

pub use encoder::{
    Activation, EncoderInputs, EncoderOutput, EncoderSpec, NormPlacement, PositionEmbedding,
    WordEmbedding, encoder,
};
pub use params::{Init, ModelBuilder, ParamDecl};
pub use tasks::{
    Head, IGNORE_INDEX, Mode, Pooling, TaskGraph, features_graph, head_graph, pool,
    span_head_graph, task_graph,
};
pub use word2vec::{IN_VECTORS, OUT_VECTORS, sgns_graph};
