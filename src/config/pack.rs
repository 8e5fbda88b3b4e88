//! `pack = false | true | "stream" | "documents" | "masked"`: how `mlm`/`clm` pretraining turns
//! a corpus's documents into rows. A bool or a word, so a hand-written `Deserialize` with a
//! precise "expected" text (no untagged enum).

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// How `mlm`/`clm` pretraining fills its rows. A document is what the corpus says (a line by
/// default; see `[corpus.NAME] document` and `[dataset.NAME] document`); a document's own lines
/// are joined with `[SEP]` in every mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Pack {
    /// One document per row, truncated to the row and padded.
    Off,
    /// The corpus as one stream: documents joined with `[SEP]` and cut into full rows, which
    /// cross document boundaries (RoBERTa's FULL-SENTENCES); `pack = true` before the modes
    /// existed.
    #[default]
    Stream,
    /// Rows never cross a document: a document is cut into consecutive rows, each opening with
    /// `[CLS]`, and its last row is padded (RoBERTa's DOC-SENTENCES).
    Documents,
    /// Rows filled across documents as `[CLS] doc [SEP] [CLS] doc [SEP] …`, with attention
    /// masked block-diagonally so no token attends across a document boundary and position ids
    /// restarting at each document (Krell et al. 2021).
    Masked,
}

impl Pack {
    /// The word a file spells it with (`false` for `Off`).
    pub fn name(self) -> &'static str {
        match self {
            Pack::Off => "false",
            Pack::Stream => "stream",
            Pack::Documents => "documents",
            Pack::Masked => "masked",
        }
    }

    /// Whether rows hold several documents kept apart by a document mask and restarting
    /// position ids (the graph's extra inputs).
    pub fn masks_documents(self) -> bool {
        match self {
            Pack::Masked => true,
            Pack::Off | Pack::Stream | Pack::Documents => false,
        }
    }

    /// The value a stage key holds for this mode. `pack` was a bool before the modes existed,
    /// and its key value then was `true` or `false`: `Stream` (what `true` meant) keeps `true`,
    /// so a configuration that spells out today's behaviour keeps its cached stages.
    pub fn key_value(self) -> serde_json::Value {
        match self {
            Pack::Off => false.into(),
            Pack::Stream => true.into(),
            Pack::Documents | Pack::Masked => self.name().into(),
        }
    }
}

impl fmt::Display for Pack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Pack {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Pack::Off => s.serialize_bool(false),
            Pack::Stream | Pack::Documents | Pack::Masked => s.serialize_str(self.name()),
        }
    }
}

const WORDS: &str = "false, true, \"stream\", \"documents\" or \"masked\"";

impl<'de> Deserialize<'de> for Pack {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Pack;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(WORDS)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Pack, E> {
                Ok(if v { Pack::Stream } else { Pack::Off })
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Pack, E> {
                match v {
                    "stream" => Ok(Pack::Stream),
                    "documents" => Ok(Pack::Documents),
                    "masked" => Ok(Pack::Masked),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Pack {
    fn schema_name() -> Cow<'static, str> {
        "Pack".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "How `mlm`/`clm` pretraining fills its rows",
            "anyOf": [
                {
                    "type": "string",
                    "const": "stream",
                    "description": "The corpus as one stream: documents joined with `[SEP]` and cut into full rows, which cross document boundaries (RoBERTa's FULL-SENTENCES)."
                },
                {
                    "type": "string",
                    "const": "documents",
                    "description": "Rows never cross a document: a document is cut into consecutive rows, each opening with `[CLS]`; its last row is padded (RoBERTa's DOC-SENTENCES)."
                },
                {
                    "type": "string",
                    "const": "masked",
                    "description": "Rows filled across documents as `[CLS] doc [SEP] [CLS] doc [SEP] …`, attention masked block-diagonally so that no token attends across a document boundary, and position ids restarting at each document (Krell et al. 2021). The mask and the position ids are inputs of the training graphs only."
                },
                {
                    "type": "boolean",
                    "const": true,
                    "description": "`\"stream\"` (its spelling before the modes existed)."
                },
                {
                    "type": "boolean",
                    "const": false,
                    "description": "One document per row, truncated to the row and padded."
                }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct T {
        pack: Pack,
    }

    #[test]
    fn words_and_bools() {
        for (text, want) in [
            ("pack = true", Pack::Stream),
            ("pack = false", Pack::Off),
            ("pack = \"stream\"", Pack::Stream),
            ("pack = \"documents\"", Pack::Documents),
            ("pack = \"masked\"", Pack::Masked),
        ] {
            assert_eq!(toml::from_str::<T>(text).unwrap().pack, want, "{text}");
        }
        let e = toml::from_str::<T>("pack = \"docs\"").err().unwrap();
        assert!(e.to_string().contains(WORDS), "{e}");
        assert!(toml::from_str::<T>("pack = 1").is_err());
    }

    /// The stage key keeps the bool the key held before the modes: `Stream` is `true`.
    #[test]
    fn key_values_keep_the_old_bool() {
        assert_eq!(Pack::Stream.key_value(), serde_json::json!(true));
        assert_eq!(Pack::Off.key_value(), serde_json::json!(false));
        assert_eq!(Pack::Masked.key_value(), serde_json::json!("masked"));
        assert_eq!(
            serde_json::to_value(Pack::Documents).unwrap(),
            serde_json::json!("documents")
        );
    }
}
