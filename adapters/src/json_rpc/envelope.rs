//! Reading notification params without parsing what is inside them (the
//! envelope itself is read by the core's `classify_json_rpc`).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// A field that is present, even as `null`.
pub(crate) fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// The channel (a string under `channel_key`) and data (any value under
/// `data_key`) of a subscription notification's params, borrowed from them.
pub(super) fn unwrap<'a>(
    params: &'a RawValue,
    channel_key: &str,
    data_key: &str,
) -> Option<(&'a str, &'a RawValue)> {
    if !params.get().starts_with('{') {
        return None;
    }
    let seed = Params {
        channel_key,
        data_key,
    };
    let mut de = serde_json::Deserializer::from_str(params.get());
    seed.deserialize(&mut de).ok()
}

/// Finds two keys chosen at run time in a JSON object, skipping the others.
struct Params<'k> {
    channel_key: &'k str,
    data_key: &'k str,
}

enum Key {
    Channel,
    Data,
    Other,
}

impl<'de> DeserializeSeed<'de> for Params<'_> {
    type Value = (&'de str, &'de RawValue);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Params<'_> {
    type Value = (&'de str, &'de RawValue);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an object with {:?} and {:?}",
            self.channel_key, self.data_key
        )
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let (mut channel, mut data) = (None, None);
        while let Some(key) = map.next_key_seed(KeySeed(&self))? {
            match key {
                Key::Channel => channel = Some(map.next_value::<&'de str>()?),
                Key::Data => data = Some(map.next_value::<&'de RawValue>()?),
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match (channel, data) {
            (Some(channel), Some(data)) => Ok((channel, data)),
            _ => Err(de::Error::custom("missing channel or data")),
        }
    }
}

/// Reads an object key as one of the two wanted keys, without allocating.
struct KeySeed<'p, 'k>(&'p Params<'k>);

impl<'de> DeserializeSeed<'de> for KeySeed<'_, '_> {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed<'_, '_> {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(if key == self.0.channel_key {
            Key::Channel
        } else if key == self.0.data_key {
            Key::Data
        } else {
            Key::Other
        })
    }
}
