//! JSON received from the server, handed out without copying or re-parsing.

use std::fmt;
use std::ops::Range;

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::wire::Text;

/// A JSON value inside a received text message: a shared slice of the
/// message, not a copy and not a parsed tree.
///
/// Parse it into your own type when (and if) you need to:
///
/// ```
/// use wsnova_core::session::JsonText;
/// let json = JsonText::from_string(r#"{"price": 101.5}"#);
/// #[derive(serde::Deserialize)]
/// struct Tick { price: f64 }
/// assert_eq!(json.parse::<Tick>().unwrap().price, 101.5);
/// assert_eq!(json.as_str(), r#"{"price": 101.5}"#);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct JsonText {
    message: Text,
    range: Range<usize>,
}

impl JsonText {
    /// Wraps a whole string (for tests and hand-made values).
    pub fn from_string(text: impl Into<String>) -> Self {
        let text: String = text.into();
        let len = text.len();
        JsonText {
            message: Text::from(text),
            range: 0..len,
        }
    }

    /// The part of `message` that `raw` borrows from. `raw` must have been
    /// deserialized from `message.as_str()`.
    pub(crate) fn slice_of(message: &Text, raw: &RawValue) -> Self {
        let base = message.as_str().as_ptr() as usize;
        let start = raw.get().as_ptr() as usize - base;
        debug_assert!(start + raw.get().len() <= message.len());
        JsonText {
            message: message.clone(),
            range: start..start + raw.get().len(),
        }
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.message.as_str()[self.range.clone()]
    }

    /// The whole received message this value is part of: the envelope
    /// around a response's `result`, with fields a server adds beside it
    /// (e.g. Deribit's `usIn`/`usOut`). No copy.
    ///
    /// ```
    /// use wsnova_core::session::JsonText;
    /// let made = JsonText::from_string("1");
    /// assert_eq!(made.message(), "1"); // a hand-made value is its own message
    /// ```
    pub fn message(&self) -> &str {
        self.message.as_str()
    }

    /// Deserializes the value.
    pub fn parse<T: DeserializeOwned>(&self) -> serde_json::Result<T> {
        serde_json::from_str(self.as_str())
    }
}

impl fmt::Debug for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 200;
        let text = self.as_str();
        if text.len() <= SHOWN {
            write!(f, "{text}")
        } else {
            let cut = (0..=SHOWN)
                .rev()
                .find(|&i| text.is_char_boundary(i))
                .unwrap_or(0);
            write!(f, "{}… ({} bytes)", &text[..cut], text.len())
        }
    }
}

impl fmt::Display for JsonText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_point_into_the_message() {
        let message = Text::from(r#"{"a":[1,2],"b":"x"}"#.to_string());
        #[derive(serde::Deserialize)]
        struct Env<'a> {
            #[serde(borrow)]
            a: &'a RawValue,
        }
        let env: Env<'_> = serde_json::from_str(message.as_str()).unwrap();
        let json = JsonText::slice_of(&message, env.a);
        assert_eq!(json.as_str(), "[1,2]");
        assert_eq!(json.parse::<Vec<u8>>().unwrap(), [1, 2]);
        // The envelope stays reachable, with what the server added beside.
        assert_eq!(json.message(), r#"{"a":[1,2],"b":"x"}"#);
        assert_eq!(JsonText::from_string("7").message(), "7");
    }

    #[test]
    fn debug_cuts_past_200_bytes_and_display_shows_all() {
        let short = JsonText::from_string(format!(r#""{}""#, "a".repeat(198)));
        assert_eq!(format!("{short:?}"), short.as_str(), "200 bytes: whole");
        let long = JsonText::from_string(format!(r#""{}""#, "é".repeat(150)));
        // 302 bytes; the cut backs off to a character boundary (199).
        let shown = format!("{long:?}");
        assert_eq!(shown, format!(r#""{}… (302 bytes)"#, "é".repeat(99)));
        assert_eq!(format!("{long}"), long.as_str());
    }
}
