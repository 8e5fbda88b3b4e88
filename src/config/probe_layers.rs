//! `probe_layers = "all" | [k, ...]`: which of the encoder's layers a downstream stage measures
//! one by one. A word or a list, so a hand-written `Deserialize` with a precise "expected" text
//! (no untagged enum).

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// `probe_layers = "all"` or a list of layer indices: 0 is the embeddings' output, k the output
/// of encoder layer k (1..=depth).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProbeLayers {
    All,
    List(Vec<usize>),
}

impl ProbeLayers {
    /// The layer indices, ascending and without repeats, for an encoder of `depth` layers;
    /// an index above `depth` is returned as the error.
    pub fn indices(&self, depth: usize) -> Result<Vec<usize>, usize> {
        match self {
            ProbeLayers::All => Ok((0..=depth).collect()),
            ProbeLayers::List(ks) => {
                if let Some(&k) = ks.iter().find(|&&k| k > depth) {
                    return Err(k);
                }
                let mut ks = ks.clone();
                ks.sort_unstable();
                ks.dedup();
                Ok(ks)
            }
        }
    }
}

impl fmt::Display for ProbeLayers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProbeLayers::All => f.write_str("all"),
            ProbeLayers::List(ks) => {
                let ks: Vec<String> = ks.iter().map(|k| k.to_string()).collect();
                write!(f, "[{}]", ks.join(", "))
            }
        }
    }
}

impl Serialize for ProbeLayers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ProbeLayers::All => s.serialize_str("all"),
            ProbeLayers::List(ks) => ks.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ProbeLayers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ProbeLayers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"all\" or a list of layer indices (0 = embeddings)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ProbeLayers, E> {
                if v == "all" {
                    Ok(ProbeLayers::All)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ProbeLayers, A::Error> {
                let mut ks = Vec::new();
                while let Some(k) = seq.next_element::<usize>()? {
                    ks.push(k);
                }
                if ks.is_empty() {
                    return Err(de::Error::invalid_length(0, &self));
                }
                Ok(ProbeLayers::List(ks))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for ProbeLayers {
    fn schema_name() -> Cow<'static, str> {
        "ProbeLayers".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "\"all\", or a list of layer indices (0 = the embeddings' output, k = encoder layer k's)",
            "anyOf": [
                { "type": "string", "const": "all", "description": "The embeddings and every layer." },
                {
                    "type": "array",
                    "items": { "type": "integer", "minimum": 0 },
                    "minItems": 1,
                    "description": "These layers, each at most `encoder.depth`."
                }
            ]
        })
    }
}
