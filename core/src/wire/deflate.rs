//! permessage-deflate (RFC 7692): what the client offers ([`DeflateConfig`])
//! and what the server agreed to ([`PerMessageDeflate`]).
//!
//! The negotiation itself is in `extensions`, the codecs in `inflate` and
//! `compress`; the frame rules (RSV1, §6) in `frames` and the `Wire`.

use super::WireError;

/// The permessage-deflate extension (RFC 7692) as the client offers it.
///
/// **Default: offered**, like browsers do: `permessage-deflate;
/// client_max_window_bits`, i.e. "I can compress with any window you ask
/// for; compress as you like". Exchange feeds (JSON tickers, order books)
/// shrink 5–10× with it. Whether the server accepted is reported by
/// [`Wire::compression`](super::Wire::compression).
///
/// **Memory** (measured by `tests/tests/deflate_memory.rs` with a counting
/// allocator, zlib-rs state included): nothing is allocated unless the
/// server accepts. Then the inflater is created on the first compressed
/// message received: **about 47 KB** with a 15-bit window. The compressor
/// is created on the first message sent compressed, i.e. one of at least
/// [`min_compress_size`](Self::min_compress_size) bytes (default 1 KiB, so
/// the small requests of exchange clients never pay for it): **about
/// 380 KB** more with a 15-bit window (zlib's hash chains dominate; 10-bit
/// windows both ways still cost about 300 KB in all). On top come the
/// reused output buffers, which grow to the largest message and are freed
/// by `Wire::shrink_buffers`.
///
/// **Window bits 8**: zlib (and so `zlib-rs`) cannot compress with a
/// 256-byte window (`deflateInit2` refuses raw deflate with 8 bits). So
/// `client_max_window_bits` may not be configured below 9, and when a
/// server demands `client_max_window_bits=8` the connection sends every
/// message uncompressed, which RFC 7692 §6 allows (RSV1 clear). Inflating
/// uses a 9-bit window where 8 was negotiated: a larger window decodes
/// every stream a smaller one does.
///
/// ```
/// use wsnova_core::wire::{DeflateConfig, WireConfig};
/// let default = DeflateConfig::default();
/// assert!(default.enabled);
/// assert_eq!(default.offer().as_deref(), Some("permessage-deflate; client_max_window_bits"));
///
/// // A receive-mostly client on a small memory budget:
/// let small = DeflateConfig {
///     client_max_window_bits: 10,
///     server_max_window_bits: Some(10),
///     client_no_context_takeover: true,
///     ..DeflateConfig::default()
/// };
/// assert_eq!(
///     small.offer().as_deref(),
///     Some("permessage-deflate; client_max_window_bits=10; server_max_window_bits=10; \
///           client_no_context_takeover")
/// );
/// let config = WireConfig::new("ws://127.0.0.1:9001/")?.deflate(small)?;
/// assert_eq!(config.deflate_config(), &small);
///
/// // Off: the upgrade request carries no Sec-WebSocket-Extensions.
/// assert_eq!(DeflateConfig::disabled().offer(), None);
/// # Ok::<(), wsnova_core::wire::WireError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Offer permessage-deflate in the upgrade request. Default `true`.
    pub enabled: bool,
    /// The largest LZ77 window our compressor uses, as a power of two
    /// (9–15; see the type's docs for 8). Offered as
    /// `client_max_window_bits=N` below 15, as a bare
    /// `client_max_window_bits` at 15 (RFC 7692 §7.1.2.2). The server may
    /// ask for less; we then use its value. Default 15.
    pub client_max_window_bits: u8,
    /// Asks the server to compress with a window of at most 2^N bytes
    /// (8–15, `server_max_window_bits`, RFC 7692 §7.1.2.1), which bounds the
    /// inflater's window. Default `None`: no request (up to 32 KiB).
    pub server_max_window_bits: Option<u8>,
    /// Compress every message on its own (`client_no_context_takeover`,
    /// RFC 7692 §7.1.1.2): a little worse ratio, no history kept between
    /// messages. Default `false`. A server may demand it anyway.
    pub client_no_context_takeover: bool,
    /// Asks the server to compress every message on its own
    /// (`server_no_context_takeover`, RFC 7692 §7.1.1.1). Default `false`.
    pub server_no_context_takeover: bool,
    /// Outgoing messages shorter than this many bytes are sent uncompressed
    /// (RSV1 clear, RFC 7692 §6). Default 1024, as Node's `ws`: small
    /// messages gain little and would allocate the compressor.
    pub min_compress_size: usize,
    /// zlib compression level for outgoing messages, 0–9. Default 6.
    pub level: u32,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            enabled: true,
            client_max_window_bits: 15,
            server_max_window_bits: None,
            client_no_context_takeover: false,
            server_no_context_takeover: false,
            min_compress_size: 1024,
            level: 6,
        }
    }
}

impl DeflateConfig {
    /// No permessage-deflate: nothing offered, nothing allocated.
    ///
    /// ```
    /// use wsnova_core::wire::DeflateConfig;
    /// assert!(!DeflateConfig::disabled().enabled);
    /// ```
    pub fn disabled() -> Self {
        DeflateConfig {
            enabled: false,
            ..DeflateConfig::default()
        }
    }

    /// The `Sec-WebSocket-Extensions` value offered, `None` when disabled.
    pub fn offer(&self) -> Option<String> {
        if !self.enabled {
            return None;
        }
        let mut offer = String::from("permessage-deflate; client_max_window_bits");
        if self.client_max_window_bits < 15 {
            offer.push_str(&format!("={}", self.client_max_window_bits));
        }
        if let Some(bits) = self.server_max_window_bits {
            offer.push_str(&format!("; server_max_window_bits={bits}"));
        }
        if self.client_no_context_takeover {
            offer.push_str("; client_no_context_takeover");
        }
        if self.server_no_context_takeover {
            offer.push_str("; server_no_context_takeover");
        }
        Some(offer)
    }

    /// Checks the values a setter alone cannot type-check.
    pub(crate) fn validate(&self) -> Result<(), WireError> {
        if !(9..=15).contains(&self.client_max_window_bits) {
            return Err(WireError::InvalidDeflate(
                "client_max_window_bits must be 9 to 15 (zlib cannot compress with 8)",
            ));
        }
        if self
            .server_max_window_bits
            .is_some_and(|bits| !(8..=15).contains(&bits))
        {
            return Err(WireError::InvalidDeflate(
                "server_max_window_bits must be 8 to 15",
            ));
        }
        if self.level > 9 {
            return Err(WireError::InvalidDeflate("level must be 0 to 9"));
        }
        Ok(())
    }
}

/// What the server accepted in its `101` response (RFC 7692 §7.1): the
/// parameters in force on this connection.
///
/// ```
/// use wsnova_core::wire::PerMessageDeflate;
/// // The server answered a bare `permessage-deflate`:
/// let p = PerMessageDeflate::default();
/// assert_eq!((p.server_max_window_bits, p.client_max_window_bits), (15, 15));
/// assert!(!p.server_no_context_takeover && !p.client_no_context_takeover);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerMessageDeflate {
    /// The server compresses with a window of at most 2^N bytes.
    pub server_max_window_bits: u8,
    /// We compress with a window of at most 2^N bytes (8: we send uncompressed).
    pub client_max_window_bits: u8,
    /// The server resets its compressor after every message.
    pub server_no_context_takeover: bool,
    /// We reset our compressor after every message.
    pub client_no_context_takeover: bool,
}

impl Default for PerMessageDeflate {
    fn default() -> Self {
        PerMessageDeflate {
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_refuses_window_bits_zlib_cannot_use() {
        let with = |f: fn(&mut DeflateConfig)| {
            let mut c = DeflateConfig::default();
            f(&mut c);
            c.validate()
        };
        assert!(with(|_| {}).is_ok());
        assert!(with(|c| c.client_max_window_bits = 8).is_err());
        assert!(with(|c| c.client_max_window_bits = 16).is_err());
        assert!(with(|c| c.server_max_window_bits = Some(8)).is_ok());
        assert!(with(|c| c.server_max_window_bits = Some(7)).is_err());
        assert!(with(|c| c.level = 10).is_err());
    }

    #[test]
    fn offer_names_every_requested_parameter() {
        let all = DeflateConfig {
            server_no_context_takeover: true,
            ..DeflateConfig::default()
        };
        assert_eq!(
            all.offer().unwrap(),
            "permessage-deflate; client_max_window_bits; server_no_context_takeover"
        );
    }

    #[test]
    fn validation_bounds_are_inclusive() {
        // RFC 7692 §7.1.2: window bits 8 to 15; zlib compresses with 9 to 15;
        // zlib levels are 0 to 9.
        let with = |f: fn(&mut DeflateConfig)| {
            let mut c = DeflateConfig::default();
            f(&mut c);
            c.validate()
        };
        assert!(with(|c| c.level = 9).is_ok());
        assert!(with(|c| c.level = 0).is_ok());
        assert!(with(|c| c.level = 11).is_err());
        assert!(with(|c| c.client_max_window_bits = 9).is_ok());
        assert!(with(|c| c.server_max_window_bits = Some(15)).is_ok());
        assert!(with(|c| c.server_max_window_bits = Some(16)).is_err());
    }

    #[test]
    fn a_window_below_15_is_offered_with_its_value() {
        // RFC 7692 §7.1.2.2: a value, or none meaning the client can use any.
        let ten = DeflateConfig {
            client_max_window_bits: 10,
            ..DeflateConfig::default()
        };
        assert_eq!(
            ten.offer().unwrap(),
            "permessage-deflate; client_max_window_bits=10"
        );
        assert_eq!(DeflateConfig::disabled().offer(), None);
        assert!(!DeflateConfig::disabled().enabled);
    }
}
