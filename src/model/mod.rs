//! The model zoo: embeddings, Transformer encoder, heads, losses and task graphs, built with `graph`.
mod encoder;
mod fused_layer;
mod fusion;
mod heads;
mod inputs;
mod params;
mod span;
mod tasks;
mod windows;
mod word2vec;

pub use encoder::{
    Activation, EncoderInputs, EncoderOutput, EncoderSpec, NormPlacement, PositionEmbedding,
    WordEmbedding, encoder,
};
pub use fusion::{Fusion, FusionPlan, NO_FUSION_ENV};
pub use heads::{Head, Pooling, PretrainHead, TaskHead, host_classifier};
pub use inputs::Input;
pub use params::{Init, ModelBuilder, ParamDecl};
pub use tasks::{
    IGNORE_INDEX, Mode, TaskGraph, features_graph, features_graph_with, head_graph,
    layer_features_graph, layer_output, pool, span_head_graph, task_graph, task_head_graph,
};
pub use windows::{WindowPool, pool_rows, pool_windows};
pub use word2vec::{IN_VECTORS, OUT_VECTORS, sgns_graph};
