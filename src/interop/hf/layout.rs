//! A Hugging Face model directory of an encoder, with or without its trained head.
//!
//! - Always: `config.json`, `model.safetensors`, `tokenizer.json`, `tokenizer_config.json`,
//!   `special_tokens_map.json` at the root.
//! - Encoder alone, or a sequence head (classify, pair): the root is a `BertModel` and also a
//!   sentence-transformers model: `modules.json` lists the Transformer (saved at the root,
//!   `sentence_bert_config.json` holds the run's `seq_len`), `1_Pooling` (the run's pooling:
//!   `[CLS]` or the mean over the attention mask) and, with a head, `2_Dense`: the trained
//!   classifier as a `Linear` to the labels with the identity activation, so that
//!   `SentenceTransformer(dir).encode(texts)` returns the logits. The label names are in
//!   `2_Dense/labels.json` (output order) and in config.json's `id2label`.
//! - A tagging head: the root is a `BertForTokenClassification` (`bert.` + the encoder,
//!   `classifier.{weight,bias}`, `id2label`/`label2id`), whose per-token logits are the run's.

use super::HfError;
use super::config::{check_expressible, config_json};
use super::tokenizer::{special_tokens_map, tokenizer_config, tokenizer_json};
use super::weights::{classifier_tensors, encoder_tensors, safetensors_bytes};
use crate::data::Tok;
use crate::model::{EncoderSpec, Pooling};
use crate::runtime::ParamStore;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// The trained head exported with the encoder.
#[derive(Debug, Clone, Copy)]
pub enum HfHead<'a> {
    /// One prediction per text (classify, pair) from the pooled features: a
    /// sentence-transformers Dense layer to `labels`.
    Sequence { labels: &'a [String] },
    /// One prediction per token (tag): `BertForTokenClassification`.
    Tokens { labels: &'a [String] },
}

/// What to export.
#[derive(Debug, Clone, Copy)]
pub struct HfModel<'a> {
    pub spec: &'a EncoderSpec,
    /// Every encoder parameter, and `head.classifier.{weight,bias}` with a head.
    pub params: &'a ParamStore,
    pub tok: &'a Tok,
    /// The sequence length the run trained and tested with (the tokenizer truncates to it).
    pub seq_len: usize,
    /// The sentence-transformers pooling (the head's, with a sequence head).
    pub pooling: Pooling,
    pub head: Option<HfHead<'a>>,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct HfWritten {
    /// `BertModel + sentence-transformers` or `BertForTokenClassification`.
    pub layout: &'static str,
    pub files: Vec<PathBuf>,
}

/// The sentence-transformers Pooling module's file name and class.
pub const POOLING_DIR: &str = "1_Pooling";
pub const DENSE_DIR: &str = "2_Dense";

fn pooling_config(d: usize, pooling: Pooling) -> Value {
    let (cls, mean, last) = match pooling {
        Pooling::Cls => (true, false, false),
        Pooling::Mean => (false, true, false),
        Pooling::Last => (false, false, true),
    };
    json!({
        "word_embedding_dimension": d,
        "pooling_mode_cls_token": cls,
        "pooling_mode_mean_tokens": mean,
        "pooling_mode_max_tokens": false,
        "pooling_mode_mean_sqrt_len_tokens": false,
        "pooling_mode_weightedmean_tokens": false,
        "pooling_mode_lasttoken": last,
        "include_prompt": true,
    })
}

struct Writer {
    dir: PathBuf,
    files: Vec<PathBuf>,
}

impl Writer {
    fn bytes(&mut self, rel: &str, bytes: &[u8]) -> Result<(), HfError> {
        let path = self.dir.join(rel);
        let err = |message: String| HfError::Write {
            path: path.clone(),
            message,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| err(e.to_string()))?;
        }
        crate::fsio::write_atomic(&path, bytes).map_err(|e| err(e.to_string()))?;
        self.files.push(path);
        Ok(())
    }

    fn json(&mut self, rel: &str, v: &Value) -> Result<(), HfError> {
        let text = serde_json::to_string_pretty(v).expect("JSON values serialise") + "\n";
        self.bytes(rel, text.as_bytes())
    }
}

/// Writes `m` into `dir` (created if needed; files of the same names are replaced). Refuses an
/// encoder that BERT cannot express before writing anything.
pub fn write_hf_dir(dir: &Path, m: &HfModel) -> Result<HfWritten, HfError> {
    let spec = m.spec;
    check_expressible(spec)?;
    let seq_len = m.seq_len.min(spec.max_len);
    if seq_len < 2 {
        return Err(HfError::Tokenizer {
            message: format!("sequence length {seq_len} leaves no room for [CLS] text [SEP]"),
        });
    }
    let labels = match m.head {
        None => &[][..],
        Some(HfHead::Sequence { labels } | HfHead::Tokens { labels }) => labels,
    };
    if m.head.is_some() && labels.is_empty() {
        return Err(HfError::Head {
            message: "no label names".into(),
        });
    }
    let (d, classes) = (spec.d_model, labels.len());
    // Every tensor is mapped (and every problem found) before the first file is written.
    let (architecture, model, dense) = match m.head {
        Some(HfHead::Tokens { .. }) => {
            let mut t = encoder_tensors(spec, m.params, "bert.")?;
            t.extend(classifier_tensors(m.params, d, classes, "classifier")?);
            ("BertForTokenClassification", safetensors_bytes(&t)?, None)
        }
        Some(HfHead::Sequence { .. }) => {
            let t = encoder_tensors(spec, m.params, "")?;
            let dense = classifier_tensors(m.params, d, classes, "linear")?;
            (
                "BertModel",
                safetensors_bytes(&t)?,
                Some(safetensors_bytes(&dense)?),
            )
        }
        None => {
            let t = encoder_tensors(spec, m.params, "")?;
            ("BertModel", safetensors_bytes(&t)?, None)
        }
    };
    let tokenizer = tokenizer_json(m.tok, seq_len, spec.segment)?;
    let mut w = Writer {
        dir: dir.to_path_buf(),
        files: Vec::new(),
    };
    w.json(
        super::super::CONFIG_FILE,
        &config_json(spec, architecture, labels),
    )?;
    w.bytes(super::super::WEIGHTS_FILE, &model)?;
    w.bytes(super::super::TOKENIZER_FILE, tokenizer.as_bytes())?;
    w.json(
        "tokenizer_config.json",
        &tokenizer_config(seq_len, spec.segment),
    )?;
    w.json("special_tokens_map.json", &special_tokens_map())?;
    let layout = if matches!(m.head, Some(HfHead::Tokens { .. })) {
        "BertForTokenClassification"
    } else {
        let mut modules = vec![
            json!({"idx": 0, "name": "0", "path": "",
                "type": "sentence_transformers.models.Transformer"}),
            json!({"idx": 1, "name": "1", "path": POOLING_DIR,
                "type": "sentence_transformers.models.Pooling"}),
        ];
        w.json(
            "sentence_bert_config.json",
            &json!({"max_seq_length": seq_len, "do_lower_case": false}),
        )?;
        w.json(
            &format!("{POOLING_DIR}/config.json"),
            &pooling_config(d, m.pooling),
        )?;
        if let Some(dense) = dense {
            modules.push(json!({"idx": 2, "name": "2", "path": DENSE_DIR,
                "type": "sentence_transformers.models.Dense"}));
            w.json(
                &format!("{DENSE_DIR}/config.json"),
                &json!({
                    "in_features": d,
                    "out_features": classes,
                    "bias": true,
                    "activation_function": "torch.nn.modules.linear.Identity",
                }),
            )?;
            w.bytes(&format!("{DENSE_DIR}/model.safetensors"), &dense)?;
            w.json(&format!("{DENSE_DIR}/labels.json"), &json!(labels))?;
        }
        w.json("modules.json", &Value::Array(modules))?;
        "BertModel + sentence-transformers"
    };
    Ok(HfWritten {
        layout,
        files: w.files,
    })
}
