//! `layers = "all" | k`: how much of a pretrained encoder a downstream stage takes. A word or a
//! number, so a hand-written `Deserialize` with a precise "expected" text (no untagged enum).

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// `layers = "all"` or `layers = k`: the first k encoder layers are transferred.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Layers {
    #[default]
    All,
    First(usize),
}

impl Layers {
    /// How many layers are transferred from an encoder of `depth` layers.
    pub fn count(self, depth: usize) -> usize {
        match self {
            Layers::All => depth,
            Layers::First(k) => k,
        }
    }
}

impl fmt::Display for Layers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Layers::All => f.write_str("all"),
            Layers::First(k) => write!(f, "{k}"),
        }
    }
}

impl Serialize for Layers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Layers::All => s.serialize_str("all"),
            Layers::First(k) => s.serialize_u64(*k as u64),
        }
    }
}

impl<'de> Deserialize<'de> for Layers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Layers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"all\" or a number of layers")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Layers, E> {
                if v == "all" {
                    Ok(Layers::All)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(v), &self))
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Layers, E> {
                usize::try_from(v)
                    .map(Layers::First)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Layers, E> {
                usize::try_from(v)
                    .map(Layers::First)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Layers {
    fn schema_name() -> Cow<'static, str> {
        "Layers".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "\"all\", or k: the first k encoder layers are transferred",
            "anyOf": [
                { "type": "string", "const": "all", "description": "Every layer." },
                {
                    "type": "integer",
                    "minimum": 0,
                    "description": "The first k layers, at most `encoder.depth`; 0: the embeddings alone."
                }
            ]
        })
    }
}
