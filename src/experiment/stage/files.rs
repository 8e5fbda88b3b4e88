//! The files inside a stage directory (`<results>/.stages/<key>/`).

/// A tokenizer stage's fitted tokenizer (Hugging Face `tokenizers` JSON).
pub const TOKENIZER: &str = "tokenizer.json";
/// A pretraining stage's encoder and embeddings (safetensors; heads dropped).
pub const PARAMS: &str = "params.safetensors";
/// Every stage's metrics (JSON object of name to number).
pub const METRICS: &str = "metrics.json";
/// Every stage's learning curves (`step, split, metric, value`).
pub const CURVES: &str = "curves.csv";
/// The periodic checkpoint of a pretraining stage in progress (parameters, optimizer state, step).
pub const RESUME: &str = "resume.safetensors";
/// Static word vectors trained upstream (`embeddings.word = "static"`).
pub const VECTORS: &str = "vectors.safetensors";
