//! Adopting another tool's tokenizer.json.
//!
//! Batching and masking rely on fixed special-token ids (`[PAD]`=0, `[UNK]`=1, `[CLS]`=2,
//! `[SEP]`=3, `[MASK]`=4, see `data::tokenizer`); BERT vocabularies put them elsewhere
//! (`[UNK]`=100, `[CLS]`=101, ...). Rather than teaching every batcher about other ids, an
//! imported vocabulary is permuted: the special tokens swap ids with the tokens that held ours,
//! the tokenizer.json is rewritten with the new ids, and the word-embedding rows are permuted the
//! same way ([`permute_rows`]). The model computes exactly what the original computes.
//!
//! Padding and truncation settings of the file are dropped: batching pads with the attention
//! mask (so padding never enters pooling) and truncates to the model's length.

use crate::data::Tok;
use crate::data::tokenizer::SPECIALS;
use serde_json::Value;

/// A tokenizer with our special-token ids and the permutation that made it.
#[derive(Debug, Clone)]
pub struct AdoptedVocab {
    pub tok: Tok,
    /// `perm[original id] = new id`.
    pub perm: Vec<u32>,
}

impl AdoptedVocab {
    /// Whether the vocabulary kept its ids (an embedlab tokenizer, or one already in our order).
    pub fn is_identity(&self) -> bool {
        self.perm.iter().enumerate().all(|(i, &p)| i as u32 == p)
    }
}

fn id_of(v: &Value, token: &str) -> Option<u32> {
    if let Some(added) = v.get("added_tokens").and_then(Value::as_array) {
        for a in added {
            if a.get("content").and_then(Value::as_str) == Some(token) {
                return a.get("id").and_then(Value::as_u64).map(|i| i as u32);
            }
        }
    }
    v.pointer("/model/vocab")
        .and_then(|m| m.get(token))
        .and_then(Value::as_u64)
        .map(|i| i as u32)
}

/// Reads a tokenizer.json written by any tool with a WordPiece, WordLevel or BPE vocabulary that
/// has `[PAD]`, `[UNK]`, `[CLS]`, `[SEP]` and `[MASK]`, and moves those to our ids.
pub fn adopt_tokenizer(json: &[u8]) -> Result<AdoptedVocab, String> {
    let mut v: Value =
        serde_json::from_slice(json).map_err(|e| format!("not a tokenizer.json: {e}"))?;
    let Some(vocab) = v.pointer("/model/vocab").and_then(Value::as_object) else {
        let kind = v
            .pointer("/model/type")
            .and_then(Value::as_str)
            .unwrap_or("unknown");
        return Err(format!(
            "model type {kind} has no token→id map (WordPiece, WordLevel and BPE vocabularies are supported)"
        ));
    };
    let mut size = vocab
        .values()
        .filter_map(Value::as_u64)
        .max()
        .map_or(0, |m| m as usize + 1);
    if let Some(added) = v.get("added_tokens").and_then(Value::as_array) {
        for a in added {
            if let Some(id) = a.get("id").and_then(Value::as_u64) {
                size = size.max(id as usize + 1);
            }
        }
    }
    let mut perm: Vec<u32> = (0..size as u32).collect();
    let mut inv = perm.clone();
    let mut missing = Vec::new();
    for (target, special) in SPECIALS.iter().enumerate() {
        let Some(orig) = id_of(&v, special) else {
            missing.push(*special);
            continue;
        };
        let (cur, target) = (perm[orig as usize], target as u32);
        if cur != target {
            // Swap the new ids of `orig` and of whichever original token now maps to `target`.
            let other = inv[target as usize];
            perm.swap(orig as usize, other as usize);
            inv[target as usize] = orig;
            inv[cur as usize] = other;
        }
    }
    if !missing.is_empty() {
        return Err(format!(
            "the vocabulary has no {} (BERT-style special tokens are required)",
            missing.join(", ")
        ));
    }
    let map = |id: &mut Value| {
        if let Some(i) = id.as_u64()
            && let Some(&p) = perm.get(i as usize)
        {
            *id = Value::from(p);
        }
    };
    if let Some(m) = v.pointer_mut("/model/vocab").and_then(Value::as_object_mut) {
        m.values_mut().for_each(map);
    }
    if let Some(added) = v.get_mut("added_tokens").and_then(Value::as_array_mut) {
        for a in added {
            if let Some(id) = a.get_mut("id") {
                map(id);
            }
        }
    }
    if let Some(pp) = v.get_mut("post_processor") {
        // TemplateProcessing: special_tokens.<name>.ids; BertProcessing: cls/sep = [token, id].
        if let Some(st) = pp.get_mut("special_tokens").and_then(Value::as_object_mut) {
            for t in st.values_mut() {
                if let Some(ids) = t.get_mut("ids").and_then(Value::as_array_mut) {
                    ids.iter_mut().for_each(map);
                }
            }
        }
        for k in ["cls", "sep"] {
            if let Some(pair) = pp.get_mut(k).and_then(Value::as_array_mut)
                && let Some(id) = pair.get_mut(1)
            {
                map(id);
            }
        }
    }
    v["padding"] = Value::Null;
    v["truncation"] = Value::Null;
    let bytes = serde_json::to_vec(&v).map_err(|e| e.to_string())?;
    let tok = Tok::from_json(&bytes).map_err(|e| e.to_string())?;
    Ok(AdoptedVocab { tok, perm })
}

/// Rows of a `[rows, width]` table moved to their permuted positions: `out[perm[i]] = table[i]`.
/// Rows beyond the permutation (a table larger than the vocabulary) stay where they are.
pub fn permute_rows(table: &[f32], width: usize, perm: &[u32]) -> Vec<f32> {
    let mut out = table.to_vec();
    for (i, &p) in perm.iter().enumerate() {
        let (src, dst) = (i * width, p as usize * width);
        if src + width <= table.len() && dst + width <= out.len() {
            out[dst..dst + width].copy_from_slice(&table[src..src + width]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specials_move_to_our_ids_and_rows_follow() {
        // A BERT-like vocabulary: [PAD]=0, a=1, b=2, [UNK]=3, [CLS]=4, [SEP]=5, [MASK]=6.
        let json = serde_json::json!({
            "version": "1.0", "truncation": null, "padding": null,
            "added_tokens": [],
            "normalizer": null,
            "pre_tokenizer": {"type": "Whitespace"},
            "post_processor": null, "decoder": null,
            "model": {"type": "WordLevel", "unk_token": "[UNK]",
                "vocab": {"[PAD]": 0, "a": 1, "b": 2, "[UNK]": 3, "[CLS]": 4, "[SEP]": 5, "[MASK]": 6}}
        });
        let adopted = adopt_tokenizer(json.to_string().as_bytes()).unwrap();
        for (i, s) in SPECIALS.iter().enumerate() {
            assert_eq!(adopted.tok.id(s), Some(i as u32), "{s}");
        }
        // Every token keeps a distinct id.
        let mut seen = adopted.perm.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..7).collect::<Vec<u32>>());
        let table: Vec<f32> = (0..7).map(|r| r as f32).collect();
        let moved = permute_rows(&table, 1, &adopted.perm);
        // The row of "a" (original id 1) sits at a's new id.
        let a = adopted.tok.id("a").unwrap() as usize;
        assert_eq!(moved[a], 1.0);
        assert_eq!(moved[2], 4.0, "[CLS] row");
        assert_eq!(
            adopted.tok.encode("b a").unwrap(),
            vec![adopted.tok.id("b").unwrap(), a as u32]
        );
    }
}
