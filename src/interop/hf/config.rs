//! Whether a `BertModel` can express an encoder, and its `config.json`.
//!
//! BERT is post-LN with learned word, position and token-type tables, bidirectional attention,
//! exact (erf) GELU or ReLU in the feed-forward block. Our encoders outside that (sinusoidal or
//! no positions, no word embeddings, pre-LN with its final norm, causal attention) are refused
//! with the experiment setting that made them so. Static word vectors are a learned table to
//! BERT (kept fixed while training, which does not matter once trained).

use super::HfError;
use crate::model::{Activation, EncoderSpec, NormPlacement, PositionEmbedding, WordEmbedding};
use serde_json::{Value, json};

/// Every setting of `spec` that a `BertModel` cannot express, named as in the experiment file.
pub fn check_expressible(spec: &EncoderSpec) -> Result<(), HfError> {
    let mut settings = Vec::new();
    match spec.word {
        WordEmbedding::Learned => {}
        WordEmbedding::None => settings.push(
            "embeddings.word = \"none\": BERT looks every token up in a word-embedding table"
                .to_string(),
        ),
    }
    match spec.position {
        PositionEmbedding::Learned => {}
        PositionEmbedding::Sinusoidal => settings.push(
            "embeddings.position = \"sinusoidal\": BERT has a learned position table (position_embedding_type \"absolute\")"
                .to_string(),
        ),
        PositionEmbedding::None => settings.push(
            "embeddings.position = \"none\": BERT always adds a learned position embedding"
                .to_string(),
        ),
    }
    match spec.norm {
        NormPlacement::Post => {}
        NormPlacement::Pre => settings.push(
            "encoder.norm = \"pre\": BERT normalises after each residual sum (post-LN) and has no final norm"
                .to_string(),
        ),
    }
    if spec.causal {
        settings.push(
            "causal attention (the encoder was pretrained with task = \"clm\"): BERT attends in both directions"
                .to_string(),
        );
    }
    if settings.is_empty() {
        Ok(())
    } else {
        Err(HfError::Inexpressible { settings })
    }
}

fn hidden_act(a: Activation) -> &'static str {
    match a {
        Activation::Gelu => "gelu",
        Activation::Relu => "relu",
    }
}

/// The `config.json` of `spec` as `architecture` (`BertModel`, `BertForTokenClassification`),
/// with `labels` as `id2label`/`label2id` when there are any.
pub fn config_json(spec: &EncoderSpec, architecture: &str, labels: &[String]) -> Value {
    let mut c = json!({
        "architectures": [architecture],
        "model_type": "bert",
        "vocab_size": spec.vocab,
        "hidden_size": spec.d_model,
        "num_hidden_layers": spec.depth,
        "num_attention_heads": spec.heads,
        "intermediate_size": spec.ffn,
        "hidden_act": hidden_act(spec.activation),
        "hidden_dropout_prob": spec.dropout,
        "attention_probs_dropout_prob": spec.dropout,
        "max_position_embeddings": spec.max_len,
        "type_vocab_size": if spec.segment { 2 } else { 1 },
        "initializer_range": 0.02,
        "layer_norm_eps": spec.ln_eps,
        "pad_token_id": crate::data::tokenizer::PAD_ID,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    });
    if !labels.is_empty() {
        let id2label: serde_json::Map<String, Value> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (i.to_string(), Value::from(l.as_str())))
            .collect();
        let label2id: serde_json::Map<String, Value> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.clone(), Value::from(i)))
            .collect();
        c["id2label"] = Value::Object(id2label);
        c["label2id"] = Value::Object(label2id);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_inexpressible_setting_is_named() {
        let mut spec = EncoderSpec::tiny(10);
        assert!(check_expressible(&spec).is_ok());
        spec.position = PositionEmbedding::Sinusoidal;
        spec.norm = NormPlacement::Pre;
        spec.causal = true;
        let msg = check_expressible(&spec).unwrap_err().to_string();
        for s in [
            "embeddings.position = \"sinusoidal\"",
            "encoder.norm = \"pre\"",
            "causal",
        ] {
            assert!(msg.contains(s), "{msg}");
        }
        let mut spec = EncoderSpec::tiny(10);
        spec.word = WordEmbedding::None;
        spec.position = PositionEmbedding::None;
        let msg = check_expressible(&spec).unwrap_err().to_string();
        assert!(msg.contains("embeddings.word = \"none\""), "{msg}");
        assert!(msg.contains("embeddings.position = \"none\""), "{msg}");
    }

    #[test]
    fn config_has_the_bert_fields_and_labels() {
        let mut spec = EncoderSpec::tiny(10);
        spec.segment = false;
        let labels = ["O".to_string(), "B-x".to_string()];
        let c = config_json(&spec, "BertForTokenClassification", &labels);
        assert_eq!(c["model_type"], "bert");
        assert_eq!(c["type_vocab_size"], 1);
        assert_eq!(c["max_position_embeddings"], 16);
        assert_eq!(c["layer_norm_eps"], 1e-12);
        assert_eq!(c["id2label"]["1"], "B-x");
        assert_eq!(c["label2id"]["O"], 0);
    }
}
