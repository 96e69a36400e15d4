//! What the hostile server does on each connection.

use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{hold, read_head};
use crate::mem_peer::{handshake_response, raw_server_frame};

/// How long a scenario keeps a quiet connection open at most.
const HOLD_LIMIT: Duration = Duration::from_secs(60);

/// One way to misbehave, played on every accepted connection.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scenario {
    /// Reads the upgrade request and never answers (the client's connect
    /// deadline must end it).
    NeverAnswer,
    /// A correct `101` and then a text message `"slow"` and a close 1000,
    /// written one byte per write, `gap` apart.
    ByteAtATime {
        /// Between two bytes.
        gap: Duration,
    },
    /// A response head of 1 MiB (one long header) that never ends.
    HugeHead,
    /// A `101` whose `Sec-WebSocket-Accept` is wrong (RFC 6455 §4.1, item 4).
    WrongAccept,
    /// `503` with `Retry-After: <secs>` (delay-seconds).
    RetryAfterSeconds(u64),
    /// `503` with `Retry-After` as an HTTP-date this many seconds ahead.
    RetryAfterDate(u64),
    /// A correct `101`, then silence: pings are read and never answered.
    HalfOpen,
    /// A correct `101`, then pings as fast as the socket takes them, and
    /// nothing the client sends is ever read.
    PingFloodNoRead,
    /// A correct `101`, one text message in `n` one-byte fragments, then a close 1000.
    Fragments(usize),
    /// A correct `101`; once the client has sent a frame, half a binary
    /// frame, then a TCP reset (the request is left unread, so the close
    /// resets).
    ResetMidFrame,
    /// Reads the request, then closes at once, every time.
    AcceptThenClose,
}

impl Scenario {
    /// Plays the scenario on one connection until it ends or `stop` is set.
    pub(crate) fn play(self, mut stream: TcpStream, stop: &AtomicBool) -> io::Result<()> {
        let _ = stream.set_nodelay(true);
        stream.set_write_timeout(Some(super::POLL))?;
        if self == Scenario::ResetMidFrame {
            return reset_mid_frame(stream, stop);
        }
        let (_, key) = read_head(&mut stream, false)?;
        let upgrade = handshake_response(&key, "").into_bytes();
        match self {
            Scenario::NeverAnswer => hold(&mut stream, stop, true, HOLD_LIMIT),
            Scenario::ByteAtATime { gap } => {
                let mut bytes = upgrade;
                bytes.extend(raw_server_frame(0x81, b"slow"));
                bytes.extend(raw_server_frame(0x88, &1000u16.to_be_bytes()));
                for byte in bytes {
                    write_all(&mut stream, &[byte], stop)?;
                    std::thread::sleep(gap);
                }
                hold(&mut stream, stop, true, HOLD_LIMIT);
            }
            Scenario::HugeHead => {
                write_all(
                    &mut stream,
                    b"HTTP/1.1 101 Switching Protocols\r\nX-Pad: ",
                    stop,
                )?;
                let pad = vec![b'a'; 64 * 1024];
                for _ in 0..16 {
                    write_all(&mut stream, &pad, stop)?;
                }
                hold(&mut stream, stop, true, HOLD_LIMIT);
            }
            Scenario::WrongAccept => {
                let wrong = handshake_response("not the key", "").into_bytes();
                write_all(&mut stream, &wrong, stop)?;
                hold(&mut stream, stop, true, HOLD_LIMIT);
            }
            Scenario::RetryAfterSeconds(secs) => refuse(&mut stream, &secs.to_string(), stop)?,
            Scenario::RetryAfterDate(ahead) => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
                // Rounded up: the date is never less than `ahead` seconds away.
                let at = now.as_secs() + ahead + u64::from(now.subsec_nanos() > 0);
                refuse(&mut stream, &http_date(at), stop)?;
            }
            Scenario::HalfOpen => {
                write_all(&mut stream, &upgrade, stop)?;
                hold(&mut stream, stop, true, HOLD_LIMIT);
            }
            Scenario::PingFloodNoRead => {
                write_all(&mut stream, &upgrade, stop)?;
                let ping = raw_server_frame(0x89, b"hey!");
                let burst: Vec<u8> = ping
                    .iter()
                    .copied()
                    .cycle()
                    .take(ping.len() * 8192)
                    .collect();
                while !stop.load(Ordering::SeqCst) {
                    write_all(&mut stream, &burst, stop)?;
                }
            }
            Scenario::Fragments(n) => {
                let mut bytes = upgrade;
                for i in 0..n {
                    let first = match (i == 0, i + 1 == n) {
                        (true, true) => 0x81,
                        (true, false) => 0x01,
                        (false, false) => 0x00,
                        (false, true) => 0x80,
                    };
                    bytes.extend(raw_server_frame(first, b"x"));
                }
                bytes.extend(raw_server_frame(0x88, &1000u16.to_be_bytes()));
                write_all(&mut stream, &bytes, stop)?;
                hold(&mut stream, stop, true, HOLD_LIMIT);
            }
            Scenario::AcceptThenClose => {
                let _ = stream.shutdown(Shutdown::Both);
            }
            Scenario::ResetMidFrame => unreachable!("played above"),
        }
        Ok(())
    }
}

/// `503 Service Unavailable` with `Retry-After: <value>`, then a close.
fn refuse(stream: &mut TcpStream, value: &str, stop: &AtomicBool) -> io::Result<()> {
    let head = format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: {value}\r\nContent-Length: 4\r\n\r\nbusy"
    );
    write_all(stream, head.as_bytes(), stop)?;
    hold(stream, stop, true, Duration::from_secs(5));
    Ok(())
}

fn reset_mid_frame(mut stream: TcpStream, stop: &AtomicBool) -> io::Result<()> {
    let (head_len, key) = read_head(&mut stream, true)?;
    write_all(&mut stream, handshake_response(&key, "").as_bytes(), stop)?;
    // Wait (peeking, so nothing is consumed) for the client's first frame:
    // then it has read the `101`.
    stream.set_read_timeout(Some(super::POLL))?;
    let mut buf = vec![0u8; head_len + 64];
    while !stop.load(Ordering::SeqCst) {
        match stream.peek(&mut buf) {
            Ok(n) if n > head_len => break,
            Ok(0) => return Ok(()),
            Ok(_) => std::thread::sleep(Duration::from_millis(5)),
            Err(_) => {}
        }
    }
    let frame = raw_server_frame(0x82, &[7u8; 1000]);
    write_all(&mut stream, &frame[..500], stop)?;
    // Closing with unread bytes in the receive queue sends RST.
    drop(stream);
    Ok(())
}

/// Writes everything, retrying timeouts until `stop` is set.
fn write_all(stream: &mut TcpStream, mut bytes: &[u8], stop: &AtomicBool) -> io::Result<()> {
    while !bytes.is_empty() {
        if stop.load(Ordering::SeqCst) {
            return Err(io::ErrorKind::Interrupted.into());
        }
        match stream.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// An IMF-fixdate (RFC 9110 §5.6.7) for `unix_secs`.
///
/// ```
/// assert_eq!(wsnova_tests::hostile::http_date(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT");
/// ```
pub fn http_date(unix_secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_secs / 86_400;
    let secs = unix_secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[(days % 7) as usize],
        day,
        MONTHS[(month - 1) as usize],
        year,
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}
