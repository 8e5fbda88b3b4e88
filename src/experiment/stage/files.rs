//! The files inside a stage directory (`<results>/.stages/<key>/`).

/// A tokenizer stage's fitted tokenizer (Hugging Face `tokenizers` JSON).
pub const TOKENIZER: &str = "tokenizer.json";
/// A pretraining stage's encoder and embeddings (safetensors; heads dropped), or a downstream
/// stage's whole model (encoder and head; see `saved`).
pub const PARAMS: &str = "params.safetensors";
/// A downstream stage's label names, in the order of its head's outputs (JSON list).
pub const LABELS: &str = "labels.json";
/// Every stage's metrics (JSON object of name to number).
pub const METRICS: &str = "metrics.json";
/// Every stage's learning curves (`step, split, metric, value`).
pub const CURVES: &str = "curves.csv";
/// The periodic checkpoint of a pretraining or downstream stage in progress (parameters,
/// optimizer state, step; see `train::fit_epochs` for a downstream stage's), in its resume folder.
pub const RESUME: &str = "resume.safetensors";
/// Static word vectors trained upstream (`embeddings.word = "static"`).
pub const VECTORS: &str = "vectors.safetensors";
