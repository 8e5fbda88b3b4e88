//! What is predicted for one input, and how a label is picked from its scores.

/// What is predicted for one input.
#[derive(Debug, Clone, PartialEq)]
pub enum Prediction {
    /// A sequence's logits and probabilities, one per label.
    Label { logits: Vec<f32>, probs: Vec<f32> },
    /// One tag index per word.
    Tags(Vec<usize>),
}

/// The index of the largest value, as embedlab's scoring picks it.
pub fn argmax(v: &[f32]) -> usize {
    crate::metrics::argmax_rows(v, v.len().max(1))
        .first()
        .map_or(0, |&i| i as usize)
}
