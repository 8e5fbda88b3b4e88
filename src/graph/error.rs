//! Typed errors of graph construction, differentiation and export.

use super::DType;

#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error("{op} at node '{node}': shapes {lhs:?} and {rhs:?} do not broadcast")]
    Broadcast {
        op: &'static str,
        node: String,
        lhs: Vec<usize>,
        rhs: Vec<usize>,
    },
    #[error("{op} at node '{node}': {message}")]
    Shape {
        op: &'static str,
        node: String,
        message: String,
    },
    #[error("{op} at node '{node}': expected dtype {expected}, found {found}")]
    DType {
        op: &'static str,
        node: String,
        expected: String,
        found: DType,
    },
    #[error("{op} at node '{node}' has no gradient rule{reason}")]
    NoGradient {
        op: &'static str,
        node: String,
        reason: String,
    },
    #[error("the value to differentiate must be a scalar float, found {dtype} {shape:?}")]
    NonScalarLoss { dtype: DType, shape: Vec<usize> },
    #[error("duplicate graph input or output name '{0}'")]
    DuplicateName(String),
}

pub type Result<T> = std::result::Result<T, GraphError>;
