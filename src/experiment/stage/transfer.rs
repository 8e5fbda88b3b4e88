//! Which parameters a downstream model takes from a pretrained encoder: the embeddings and the
//! first `k` layers; the rest start at random.

use crate::model::ParamDecl;
use crate::runtime::{self, ParamStore};
use crate::train;
use anyhow::Result;
use std::path::Path;

/// Initial parameters of a downstream model: seeded random values, with the embeddings and the
/// first `k` encoder layers replaced by those of the `checkpoint` when there is one. Returns the
/// store and the number of tensors transferred.
pub fn initial_params(
    decls: &[ParamDecl],
    seed: u64,
    checkpoint: Option<&Path>,
    k: usize,
) -> Result<(ParamStore, usize)> {
    let mut params = train::init_params(decls, seed)?;
    let Some(path) = checkpoint else {
        return Ok((params, 0));
    };
    let mut sub = subset(&params, |n| transferred(n, k))?;
    // The checkpoint holds every layer; only the first k are wanted here.
    let opts = runtime::LoadOptions {
        allow_unused: true,
        ..Default::default()
    };
    runtime::load_params_into(path, &mut sub, &opts)?;
    for p in sub.iter() {
        params.set(p.name, p.data)?;
    }
    Ok((params, sub.len()))
}

/// A copy of the parameters whose names `keep` accepts.
pub fn subset(params: &ParamStore, keep: impl Fn(&str) -> bool) -> Result<ParamStore> {
    let mut s = ParamStore::new();
    for p in params.iter().filter(|p| keep(p.name)) {
        s.insert(p.name, p.shape, p.data)?;
    }
    Ok(s)
}

/// The embeddings and encoder parameters of a store (heads dropped).
pub fn only_encoder(params: &ParamStore) -> Result<ParamStore> {
    subset(params, |n| {
        n.starts_with("embeddings.") || n.starts_with("encoder.")
    })
}

/// Whether parameter `name` is transferred when the first `k` layers are.
pub fn transferred(name: &str, k: usize) -> bool {
    if name.starts_with("embeddings.") {
        return true;
    }
    match name
        .strip_prefix("encoder.layer")
        .and_then(|r| r.split('.').next())
        .and_then(|n| n.parse::<usize>().ok())
    {
        Some(l) => l < k,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_k_layers_and_embeddings_are_transferred() {
        assert!(transferred("embeddings.word", 1));
        assert!(transferred("encoder.layer0.attn.qkv.weight", 1));
        assert!(!transferred("encoder.layer1.attn.qkv.weight", 1));
        assert!(!transferred("encoder.layer10.ffn.up.bias", 2));
        assert!(!transferred("head.classifier.weight", 2));
    }
}
