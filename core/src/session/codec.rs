//! How a service's payloads travel: JSON in text messages (the default) or
//! MessagePack in binary messages.

use crate::wire::Text;

/// How the requests an adapter builds are framed, and how inbound binary
/// messages are read. Chosen by [`Adapter::codec`](super::Adapter::codec).
///
/// The session speaks JSON inside: adapters build requests as JSON text and
/// classify JSON text, and events carry [`JsonText`](super::JsonText). A codec
/// only changes what crosses the wire:
///
/// - [`Codec::Json`] (default): requests leave as text messages, unchanged;
///   text messages are classified in place (no copy, no extra step) and
///   binary messages reach the application as `Event::Message`.
/// - [`Codec::MessagePack`]: each encoded request is transcoded to
///   MessagePack and leaves as a binary message; each inbound binary message
///   is decoded from MessagePack to JSON text, which is then classified as if
///   it had come as text (so a message the adapter calls `Other` reaches the
///   application as `Message::Text` holding that JSON). Binary messages that
///   are not MessagePack of a JSON value (bin or ext types, non-string map
///   keys) are delivered unchanged. Text messages are still read as JSON.
///
/// The transcoding costs one parse and one allocation per message on the
/// MessagePack path only; the JSON path does exactly what it did before
/// codecs existed. Raw messages the application sends (`send_text`,
/// `send_binary`) are never transcoded.
///
/// ```
/// use wsnova_core::session::{Codec, Encoded};
///
/// let request = r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{}}"#;
/// assert_eq!(Codec::Json.encode(request).unwrap(), Encoded::Text(request));
///
/// let Encoded::Binary(packed) = Codec::MessagePack.encode(request).unwrap() else {
///     unreachable!()
/// };
/// let json = Codec::MessagePack.decode(&packed).unwrap();
/// let value: serde_json::Value = serde_json::from_str(&json).unwrap();
/// assert_eq!(value["method"], "ping");
/// assert_eq!(Codec::Json.decode(&packed), None); // JSON: binary stays binary
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// JSON text in text messages.
    #[default]
    Json,
    /// MessagePack in binary messages (the JSON data model: maps with string
    /// keys, arrays, strings, numbers, booleans, nil).
    MessagePack,
}

/// A request framed by a [`Codec`], ready for the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encoded<'a> {
    /// Send as a text message (the JSON as given: no copy).
    Text(&'a str),
    /// Send as a binary message.
    Binary(Vec<u8>),
}

/// JSON text that a [`Codec`] cannot encode.
///
/// ```
/// use wsnova_core::session::Codec;
/// let err = Codec::MessagePack.encode("{not json").unwrap_err();
/// assert!(err.to_string().starts_with("cannot encode as MessagePack"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot encode as {codec:?}: {reason}")]
pub struct CodecError {
    codec: Codec,
    reason: String,
}

impl Codec {
    /// Frames the JSON text of a request. [`Codec::Json`] passes it through;
    /// [`Codec::MessagePack`] fails when `json` is not valid JSON.
    pub fn encode(self, json: &str) -> Result<Encoded<'_>, CodecError> {
        match self {
            Codec::Json => Ok(Encoded::Text(json)),
            Codec::MessagePack => {
                let error = |reason: String| CodecError {
                    codec: self,
                    reason,
                };
                let value: serde_json::Value =
                    serde_json::from_str(json).map_err(|e| error(e.to_string()))?;
                rmp_serde::to_vec(&value)
                    .map(Encoded::Binary)
                    .map_err(|e| error(e.to_string()))
            }
        }
    }

    /// The JSON text a binary payload carries under this codec; `None` when
    /// it carries none ([`Codec::Json`] never decodes binary messages;
    /// [`Codec::MessagePack`] returns `None` for bytes that are not one
    /// MessagePack value of the JSON data model).
    pub fn decode(self, data: &[u8]) -> Option<Text> {
        match self {
            Codec::Json => None,
            Codec::MessagePack => {
                let mut reader = data;
                let value: serde_json::Value = rmp_serde::from_read(&mut reader).ok()?;
                if !reader.is_empty() {
                    return None; // trailing bytes: not one value
                }
                serde_json::to_string(&value).ok().map(Text::from)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messagepack_round_trips_the_json_data_model() {
        let value = json!({
            "id": 18446744073709551615u64,
            "neg": -3,
            "price": 101.5,
            "ok": true,
            "nothing": null,
            "list": ["é", [], {}],
        });
        let text = value.to_string();
        let Ok(Encoded::Binary(packed)) = Codec::MessagePack.encode(&text) else {
            panic!("binary expected")
        };
        let back = Codec::MessagePack.decode(&packed).expect("decodes");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&back).unwrap(),
            value
        );
    }

    #[test]
    fn maps_are_encoded_with_string_keys() {
        let Ok(Encoded::Binary(packed)) = Codec::MessagePack.encode(r#"{"a":1}"#) else {
            panic!("binary expected")
        };
        // fixmap of 1, fixstr "a", positive fixint 1.
        assert_eq!(packed, [0x81, 0xa1, b'a', 0x01]);
    }

    #[test]
    fn what_is_not_json_shaped_messagepack_is_not_decoded() {
        let not_decoded: [&[u8]; 5] = [
            &[],                 // nothing
            &[0xc1],             // never used
            &[0xc4, 0x01, 0x00], // bin 8: bytes have no JSON form
            &[0x81, 0x01, 0x02], // map with an integer key
            &[0x01, 0x02],       // two values
        ];
        for data in not_decoded {
            assert_eq!(Codec::MessagePack.decode(data), None, "{data:02x?}");
        }
        assert_eq!(Codec::Json.decode(&[0x01]), None);
    }

    #[test]
    fn json_passes_text_through_without_checking_it() {
        assert_eq!(
            Codec::Json.encode("{not json"),
            Ok(Encoded::Text("{not json"))
        );
        assert!(Codec::MessagePack.encode("{not json").is_err());
    }
}
