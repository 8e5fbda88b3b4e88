//! `from = "none" | "A" | ["A", "B"]`: the pretraining chain a downstream stage starts from. A word
//! or a list, so a hand-written `Deserialize` with a precise "expected" text (no untagged enum).

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt;

/// `from = "none" | "A" | ["A", "B"]`: the chain of pretraining stages, in order (empty = none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct StageRef(pub Vec<String>);

impl StageRef {
    pub fn is_none(&self) -> bool {
        self.0.is_empty()
    }
    pub fn names(&self) -> &[String] {
        &self.0
    }
}

impl fmt::Display for StageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("none")
        } else {
            f.write_str(&self.0.join(" -> "))
        }
    }
}

impl Serialize for StageRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [] => s.serialize_str("none"),
            [one] => s.serialize_str(one),
            many => many.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for StageRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StageRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"none\", a pretrain stage name, or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StageRef, E> {
                if v == "none" {
                    Ok(StageRef(Vec::new()))
                } else {
                    Ok(StageRef(vec![v.to_string()]))
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StageRef, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element::<String>()? {
                    names.push(name);
                }
                Ok(StageRef(names))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for StageRef {
    fn schema_name() -> Cow<'static, str> {
        "StageRef".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "\"none\", a pretrain stage name, or a chain of them in order",
            "anyOf": [
                { "type": "string", "const": "none", "description": "No pretraining." },
                { "type": "string", "description": "The NAME of a `[pretrain.NAME]` stage." },
                {
                    "type": "array",
                    "items": { "type": "string" },
                    "description": "A chain of stage NAMEs, run in order."
                }
            ]
        })
    }
}
