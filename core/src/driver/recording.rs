//! Recording a driver's session: where to ([`RecordTo`], set with
//! `Builder::record` or `Builder::record_to`), and the buffered
//! [`Recorder`] a driver puts on the session it owns. The core opens no
//! file: a driver passes its way of creating one (`File::create`).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::ConnectError;
use crate::record::Recorder;
use crate::session::{SessionConfig, Tap};

/// The recorder's buffer: lines reach the sink in writes of this size, at
/// the session's end, and on timer calls at most once a second.
pub const RECORD_BUFFER: usize = 64 * 1024;

/// A writer given to `Builder::record_to`: taken by the first connection
/// that starts with the builder (a clone of the builder shares it).
type SharedWriter = Arc<Mutex<Option<Box<dyn Write + Send>>>>;

/// Where a driver records its session (JSON Lines, secrets redacted; see
/// [`crate::record`]).
#[derive(Clone)]
pub struct RecordTo(Target);

#[derive(Clone)]
enum Target {
    File(PathBuf),
    Writer(SharedWriter),
}

impl RecordTo {
    /// A file, created (or truncated) by the driver when the connection starts.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        RecordTo(Target::File(path.into()))
    }

    /// Any writer (a pipe, a socket, an in-memory buffer); the first
    /// connection started with it takes it.
    pub fn writer(writer: impl Write + Send + 'static) -> Self {
        RecordTo(Target::Writer(Arc::new(Mutex::new(Some(Box::new(writer))))))
    }

    /// The recorder for a session of `config` started at `now`, writing
    /// through a [`RECORD_BUFFER`]-sized buffer; `create` opens a file
    /// target (drivers pass `|path| File::create(path)`). Fails with
    /// [`ConnectError::InvalidOption`] when the file cannot be created or
    /// the writer was taken by another connection.
    ///
    /// ```
    /// use std::time::Instant;
    /// use wsnova_core::driver::RecordTo;
    /// use wsnova_core::session::SessionConfig;
    /// let config = SessionConfig::new("ws://127.0.0.1:9001/")?;
    /// let to = RecordTo::writer(Vec::new());
    /// let create = |path: &std::path::Path| std::fs::File::create(path);
    /// assert!(to.recorder(&config, Instant::now(), create).is_ok());
    /// assert!(to.recorder(&config, Instant::now(), create).is_err(), "taken");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn recorder(
        &self,
        config: &SessionConfig,
        now: Instant,
        create: impl FnOnce(&Path) -> io::Result<File>,
    ) -> Result<Box<dyn Tap>, ConnectError> {
        let sink: Box<dyn Write + Send> = match &self.0 {
            Target::File(path) => Box::new(create(path).map_err(|e| {
                ConnectError::InvalidOption(format!("record {}: {e}", path.display()))
            })?),
            Target::Writer(shared) => shared
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .ok_or_else(|| {
                    ConnectError::InvalidOption(
                        "record_to: the writer was taken by another connection".into(),
                    )
                })?,
        };
        let sink = BufWriter::with_capacity(RECORD_BUFFER, sink);
        Ok(Box::new(Recorder::new(config, now, sink)))
    }
}

impl std::fmt::Debug for RecordTo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Target::File(path) => f.debug_tuple("RecordTo").field(path).finish(),
            Target::Writer(_) => f.write_str("RecordTo(<writer>)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Input;

    /// A sink that notes the size of every write it gets.
    #[derive(Clone, Default)]
    struct Writes(Arc<Mutex<Vec<usize>>>);

    impl Write for Writes {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            // Also while a failed assertion unwinds (the recorder flushes
            // when dropped): a poisoned lock must not panic again.
            let mut sizes = self.0.lock().unwrap_or_else(|e| e.into_inner());
            sizes.push(buf.len());
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn records_reach_the_sink_in_writes_of_nearly_64_kib() {
        let writes = Writes::default();
        let config = SessionConfig::new("ws://127.0.0.1:9001/").unwrap();
        let now = Instant::now();
        let no_file = |_: &Path| -> io::Result<File> { unreachable!("a writer target") };
        let mut tap = RecordTo::writer(writes.clone())
            .recorder(&config, now, no_file)
            .unwrap();
        // Some 10 KiB of lines, all at `now` (no timer flush): held.
        for _ in 0..300 {
            tap.input(now, &Input::Connected { generation: 1 });
        }
        assert_eq!(*writes.0.lock().unwrap(), [0usize; 0]);
        // Past 64 KiB the buffer goes out whole: writes of 60 to 64 KiB.
        for _ in 0..3_000 {
            tap.input(now, &Input::Connected { generation: 1 });
        }
        let sizes = writes.0.lock().unwrap().clone();
        assert!(!sizes.is_empty());
        assert!(
            sizes.iter().all(|&n| (60_000..=RECORD_BUFFER).contains(&n)),
            "{sizes:?}"
        );
    }
}
