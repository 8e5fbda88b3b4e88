//! The keys of each table in the order their struct declares them, which the JSON Schema loses
//! (its properties come out sorted). serde's derived `Deserialize` hands its field list to
//! `Deserializer::deserialize_struct`; a deserializer that stops there reads it.

use crate::config::data::{CorpusConfig, DatasetConfig, FilterConfig, TokenizerConfig};
use crate::config::downstream::{DownstreamConfig, Probe};
use crate::config::embeddings::EmbeddingsConfig;
use crate::config::encoder::EncoderConfig;
use crate::config::experiment::Experiment;
use crate::config::optimizer::OptimizerConfig;
use crate::config::pretrain::PretrainConfig;
use crate::config::vectors::VectorsConfig;
use schemars::JsonSchema;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

/// Each table type's schema name and keys in declaration order. A table type missing here is
/// listed alphabetically, and the `every_table_has_its_key_order` test fails.
pub(super) fn key_orders() -> Vec<(String, &'static [&'static str])> {
    vec![
        entry::<Experiment>(),
        entry::<CorpusConfig>(),
        entry::<DatasetConfig>(),
        entry::<FilterConfig>(),
        entry::<TokenizerConfig>(),
        entry::<EmbeddingsConfig>(),
        entry::<EncoderConfig>(),
        entry::<VectorsConfig>(),
        entry::<PretrainConfig>(),
        entry::<OptimizerConfig>(),
        entry::<DownstreamConfig>(),
        entry::<Probe>(),
    ]
}

fn entry<T: JsonSchema + DeserializeOwned>() -> (String, &'static [&'static str]) {
    (T::schema_name().into_owned(), keys_of::<T>())
}

/// The serialised names of struct `T`'s fields, in declaration order (empty for a non-struct).
fn keys_of<T: DeserializeOwned>() -> &'static [&'static str] {
    match T::deserialize(KeyReader) {
        Err(Stop::Keys(keys)) => keys,
        Ok(_) | Err(Stop::NotAStruct) => &[],
    }
}

/// Why [`KeyReader`] stopped: the only way it ever returns.
#[derive(Debug, thiserror::Error)]
enum Stop {
    #[error("the struct's keys")]
    Keys(&'static [&'static str]),
    #[error("not a struct")]
    NotAStruct,
}

impl de::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop::NotAStruct
    }
}

/// A deserializer with no data: it reports the field list a struct asks for, and nothing else.
struct KeyReader;

impl<'de> Deserializer<'de> for KeyReader {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop::NotAStruct)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        Err(Stop::Keys(fields))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}
