//! Upper bounds on sizes. Beyond them a run cannot fit in memory on any machine this targets
//! (or would abort in an allocation), so they are input mistakes, reported before compute. Read by
//! validation and, as the schema's maxima, by the reference page.

pub const THREADS: usize = 1024;
pub const DEPTH: usize = 1024;
pub const D_MODEL: usize = 1 << 16;
pub const FFN: usize = 1 << 18;
pub const MAX_LEN: usize = 1 << 16;
pub const VOCAB_SIZE: usize = 1 << 22;
pub const BATCH_SIZE: usize = 1 << 16;
/// Tokens in one batch (batch_size × seq_len).
pub const BATCH_TOKENS: usize = 1 << 22;
/// Parameters of the encoder and its embeddings (f32: 8 GiB, before optimizer state).
pub const PARAMS: u128 = 1 << 31;
