//! What can go wrong in `predict`, split by whose fault it is: the command maps `Invalid` to
//! exit code 2 (nothing was predicted) and `Failed` to exit code 1.

/// A prediction that did not happen, or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    /// The run cannot be used (no trained head, no configuration) or the input file is bad
    /// (its errors name the file and the line); nothing was predicted.
    #[error("{0:#}")]
    Invalid(anyhow::Error),
    /// Building the model's session, predicting or writing the CSV failed.
    #[error("{0:#}")]
    Failed(anyhow::Error),
}
