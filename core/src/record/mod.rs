//! Record and replay: a production incident becomes a deterministic test.
//!
//! A [`RecordingSession`] is a [`Session`](crate::session::Session) that
//! writes every input (transport events, bytes as the HTTP head and whole
//! frames, timer calls), every command (with its result) and every output
//! (events, dials, closes, and the bytes written, cut into frames) as JSON
//! Lines to a `Write` the caller gives, with secrets redacted. [`replay`]
//! feeds such a recording to a fresh session in virtual time and reports
//! the first [`Divergence`]. The core stays sans-IO: no file, no clock.
//!
//! ```
//! use std::time::Instant;
//! use wsnova_core::record::{RecordingSession, header, replay};
//! use wsnova_core::session::{Output, Plain, SessionConfig};
//!
//! let mut config = SessionConfig::new("ws://127.0.0.1:9001/")?;
//! config.seed = 7;
//! let now = Instant::now();
//! let mut session = RecordingSession::new(config.clone(), Plain, now, Vec::new());
//! session.connect(now)?;
//! while let Some(output) = session.poll_output() {
//!     assert!(matches!(output, Output::Dial { .. }));
//! }
//! let recording = String::from_utf8(session.finish()?)?;
//! assert_eq!(header(&recording)?.seed, 7);
//! assert!(replay(&recording, config.clone(), Plain).is_ok());
//! config.wire = config.wire.header("X-Other", "1")?; // still the same dial
//! assert!(replay(&recording, config, Plain).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! What is redacted: the `params` of every request whose method ends in
//! `auth`, every string under a secret key (`access_token`,
//! `refresh_token`, `client_secret`, `signature`, `password`, `secret`,
//! `api_key`, `token`) in JSON text frames and events, the values of
//! credential headers in the upgrade, and the secret given to
//! `authenticate`. The replay redacts its own output the same way, so it
//! runs with dummy credentials.
//!
//! Limits: over `wss://` the bytes are ciphertext and only their lengths
//! are recorded, so such a recording documents but does not replay.
//! Compressed frames (permessage-deflate) are recorded as they travel
//! (base64) and are not searched for secrets.

mod entry;
mod limits;
mod pieces;
mod recorder;
mod replay;

pub use entry::{Command, Entry, FORMAT_VERSION, output_line, time_since_start};
pub use limits::{RecordedLimit, RecordedRate};
pub use pieces::{Piece, REDACTED, redact_text};
pub use recorder::{Recorder, RecordingSession};
pub use replay::{Divergence, RecordingHeader, ReplayReport, header, replay};
