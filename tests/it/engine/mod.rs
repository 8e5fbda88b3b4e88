//! The training engine: overfitting and determinism, layer transfer, static word vectors.
mod train;
mod transfer_layers;
mod word_vectors;
