//! The graphs' batch inputs (everything fed besides parameters), named once: the graph
//! builders declare them by these names and the stages feed them by them, so a batch is a map
//! from [`Input`] to tensor rather than from strings.

/// A batch input of a graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Input {
    /// `[B, T]` i64: token ids.
    InputIds,
    /// `[B, T]` i64: 1 for a real token, 0 for padding.
    AttentionMask,
    /// `[B, T]` i64: the segment of each token (encoders with segment embeddings).
    TokenTypeIds,
    /// `[B, T]` i64: each token's position in its document (masked packing).
    PositionIds,
    /// `[B, T, T]` i64: 1 where query `i` may attend key `j`, the same document (masked
    /// packing).
    DocumentMask,
    /// i64 targets of the loss: `[B]` per sequence, `[B·T]` per token, `[2·B]` a span's start
    /// and end.
    Labels,
    /// `[B, T]` i64: 1 where an answer may start or end (the span head).
    SpanMask,
    /// `[W, W]` float: which window rows pool into which example (long inputs).
    WindowMask,
    /// `[M]` i64: the flat positions MLM predicts.
    MlmPositions,
    /// `[M]` i64: the tokens MLM predicts there.
    MlmLabels,
    /// `[rows, D]` float: precomputed features a head-only graph reads.
    Features,
    /// `[B]` i64: skip-gram's centre words.
    Center,
    /// `[B]` i64: skip-gram's context words.
    Context,
    /// `[B, K]` i64: skip-gram's negative samples.
    Negative,
}

impl Input {
    /// The input's name in the ONNX graph.
    pub const fn name(self) -> &'static str {
        match self {
            Input::InputIds => "input_ids",
            Input::AttentionMask => "attention_mask",
            Input::TokenTypeIds => "token_type_ids",
            Input::PositionIds => "position_ids",
            Input::DocumentMask => "document_mask",
            Input::Labels => "labels",
            Input::SpanMask => "span_mask",
            Input::WindowMask => "window_mask",
            Input::MlmPositions => "mlm_positions",
            Input::MlmLabels => "mlm_labels",
            Input::Features => "features",
            Input::Center => "center",
            Input::Context => "context",
            Input::Negative => "negative",
        }
    }

    /// Whether the encoder reads it; the rest of a batch belongs to a head, a loss or the
    /// window pooling.
    pub const fn feeds_encoder(self) -> bool {
        match self {
            Input::InputIds
            | Input::AttentionMask
            | Input::TokenTypeIds
            | Input::PositionIds
            | Input::DocumentMask => true,
            Input::Labels
            | Input::SpanMask
            | Input::WindowMask
            | Input::MlmPositions
            | Input::MlmLabels
            | Input::Features
            | Input::Center
            | Input::Context
            | Input::Negative => false,
        }
    }
}
