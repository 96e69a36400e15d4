//! The payload of a text message: shared bytes that are valid UTF-8 by construction.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use bytes::Bytes;
use tungstenite::protocol::frame::Utf8Bytes;

/// The payload of a text message (or a close reason): reference-counted bytes
/// that are valid UTF-8 by construction.
///
/// Cloning one copies nothing; it derefs to `&str`, so every `str` method
/// works on it. `Debug` shows the text quoted, cut after 200 bytes for long
/// payloads.
///
/// (Inside, tungstenite's `Utf8Bytes` keeps the proof of validity, so
/// [`as_str`](Self::as_str) costs nothing; it never appears in the API.)
///
/// ```
/// use wsnova_core::wire::Text;
/// let text = Text::from("héllo");
/// assert_eq!(text.as_str(), "héllo");
/// assert!(text.starts_with("hé")); // through `Deref<Target = str>`
/// assert_eq!(text.len(), 6);
/// assert_eq!(format!("{text}"), "héllo");
/// assert_eq!(format!("{text:?}"), r#""héllo""#);
/// assert!(Text::try_from(bytes::Bytes::from_static(b"\xff")).is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Text(Utf8Bytes);

/// The bytes given to [`Text::try_from`] are not valid UTF-8.
///
/// ```
/// use wsnova_core::wire::Text;
/// let err = Text::try_from(vec![b'a', 0xc3]).unwrap_err();
/// assert_eq!(err.valid_up_to(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid UTF-8 after {valid_up_to} bytes")]
pub struct NotUtf8 {
    valid_up_to: usize,
}

impl NotUtf8 {
    /// The length of the valid prefix.
    pub fn valid_up_to(&self) -> usize {
        self.valid_up_to
    }
}

impl Text {
    /// A text that points at a static string (no allocation).
    ///
    /// ```
    /// use wsnova_core::wire::Text;
    /// assert_eq!(Text::from_static("hi"), "hi");
    /// ```
    pub const fn from_static(text: &'static str) -> Self {
        Text(Utf8Bytes::from_static(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The UTF-8 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The shared bytes underneath (no copy).
    ///
    /// ```
    /// use wsnova_core::wire::Text;
    /// assert_eq!(Text::from("ab").into_bytes(), bytes::Bytes::from_static(b"ab"));
    /// ```
    pub fn into_bytes(self) -> Bytes {
        self.0.into()
    }
}

impl Deref for Text {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl From<String> for Text {
    /// Takes the string's buffer over (no copy).
    fn from(text: String) -> Self {
        Text(Utf8Bytes::from(text))
    }
}

impl From<&str> for Text {
    /// Copies the string.
    fn from(text: &str) -> Self {
        Text(Utf8Bytes::from(text))
    }
}

impl From<&String> for Text {
    /// Copies the string.
    fn from(text: &String) -> Self {
        Text::from(text.as_str())
    }
}

impl From<Text> for Bytes {
    fn from(text: Text) -> Self {
        text.0.into()
    }
}

impl TryFrom<Bytes> for Text {
    type Error = NotUtf8;

    /// Checks that the bytes are UTF-8 and wraps them (no copy).
    fn try_from(bytes: Bytes) -> Result<Self, NotUtf8> {
        Utf8Bytes::try_from(bytes).map(Text).map_err(|e| NotUtf8 {
            valid_up_to: e.valid_up_to(),
        })
    }
}

impl TryFrom<Vec<u8>> for Text {
    type Error = NotUtf8;

    /// Checks that the bytes are UTF-8 and wraps them (no copy).
    fn try_from(bytes: Vec<u8>) -> Result<Self, NotUtf8> {
        Text::try_from(Bytes::from(bytes))
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.as_str();
        if text.len() <= SHOWN {
            return fmt::Debug::fmt(text, f);
        }
        let cut = (0..=SHOWN)
            .rev()
            .find(|&i| text.is_char_boundary(i))
            .unwrap_or(0);
        write!(f, "{:?}… ({} bytes)", &text[..cut], text.len())
    }
}

/// How many bytes of a payload `Debug` shows.
const SHOWN: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_debug_is_cut_on_a_char_boundary() {
        let long = format!("{}é{}", "a".repeat(199), "b".repeat(300));
        let shown = format!("{:?}", Text::from(long));
        assert_eq!(shown, format!("{:?}… (501 bytes)", "a".repeat(199)));
    }

    #[test]
    fn conversions_share_the_bytes() {
        let bytes = Bytes::from(String::from("shared"));
        let text = Text::try_from(bytes.clone()).unwrap();
        assert_eq!(text.as_bytes().as_ptr(), bytes.as_ptr());
        let clone = text.clone();
        assert_eq!(clone.as_ptr(), text.as_ptr());
        assert_eq!(Bytes::from(clone), bytes);
    }

    #[test]
    fn hashes_like_str() {
        use std::collections::hash_map::DefaultHasher;
        let hash = |h: &dyn Fn(&mut DefaultHasher)| {
            let mut s = DefaultHasher::new();
            h(&mut s);
            s.finish()
        };
        assert_eq!(hash(&|s| Text::from("k").hash(s)), hash(&|s| "k".hash(s)));
    }

    #[test]
    fn compares_with_every_string_type_both_ways() {
        let text = Text::from("héllo");
        let (same, other) = (String::from("héllo"), String::from("hello"));
        assert!(text == *same.as_str() && text != *other.as_str()); // str
        assert!(text == same.as_str() && text != other.as_str()); // &str
        assert!(text == same && text != other); // String
        assert!(*same.as_str() == text && *other.as_str() != text);
        assert!(same.as_str() == text && other.as_str() != text);
    }

    #[test]
    fn views_and_conversions_keep_the_text() {
        let text = Text::from(&String::from("héllo"));
        assert_eq!(AsRef::<str>::as_ref(&text), "héllo");
        assert_eq!(AsRef::<[u8]>::as_ref(&text), "héllo".as_bytes());
        assert_eq!(text.to_string(), "héllo"); // Display
        let from_vec = Text::try_from(b"ok \xe2\x82\xac".to_vec()).unwrap();
        assert_eq!(from_vec.as_str(), "ok €");
        assert_eq!(
            Text::try_from(b"ok\xff".to_vec())
                .unwrap_err()
                .valid_up_to(),
            2
        );
    }

    #[test]
    fn invalid_utf8_is_refused() {
        let err = Text::try_from(Bytes::from_static(b"ok\xe2\x82")).unwrap_err();
        assert_eq!(err.valid_up_to(), 2);
        assert_eq!(err.to_string(), "invalid UTF-8 after 2 bytes");
    }
}
