//! The bare core in your own loop: a `Session<Echo>` over a blocking
//! `std::net::TcpStream`, no driver, no async runtime.
//!
//! ```text
//! cargo run -p wsnova-core --example std_loop -- ws://127.0.0.1:9001/
//! ```
//!
//! The loop is the one every driver runs: feed input, drain `poll_output`,
//! write `pending_transmit`, then wait for bytes until `poll_timeout`.

use std::error::Error;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use wsnova_core::session::{CloseReason, Echo, Event, Input, Output, Session, SessionConfig};
use wsnova_core::wire::CloseCode;

/// Connects to `url` (`ws://` or `wss://`), sends `messages` once ready,
/// returns what came back, and closes cleanly.
pub fn run(url: &str, messages: &[&str]) -> Result<Vec<String>, Box<dyn Error>> {
    let mut config = SessionConfig::new(url)?;
    config.fail_before_first_ready = true; // a wrong URL fails instead of retrying
    let mut session = Session::new(config, Echo, Instant::now());
    session.connect(Instant::now())?;
    let mut socket: Option<(u64, TcpStream)> = None; // the generation it belongs to
    let mut echoes = Vec::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        // 1. Drain everything the session wants done or reported.
        while let Some(output) = session.poll_output() {
            let now = Instant::now();
            match output {
                Output::Dial {
                    generation,
                    host,
                    port,
                } => match TcpStream::connect((host.as_str(), port)) {
                    Ok(stream) => {
                        socket = Some((generation, stream));
                        session.handle_input(now, Input::Connected { generation });
                    }
                    Err(e) => {
                        let error = &e.to_string();
                        session.handle_input(now, Input::ConnectFailed { generation, error });
                    }
                },
                Output::Transmit { .. } => {} // written below, after the drain
                Output::CloseTransport { flush, .. } => {
                    if let Some((_, mut stream)) = socket.take() {
                        let _ = stream.write_all(&flush); // best effort: it is closing
                    }
                }
                Output::Event(Event::Ready) => {
                    for message in messages {
                        session.send_text(now, message)?;
                    }
                }
                Output::Event(Event::Message(message)) => {
                    echoes.push(String::from_utf8_lossy(message.as_bytes()).into_owned());
                    if echoes.len() == messages.len() {
                        session.close(now, CloseCode::Normal, "done")?;
                    }
                }
                Output::Event(Event::Closed {
                    reason: CloseReason::User,
                }) => return Ok(echoes),
                Output::Event(Event::Closed { reason }) => return Err(format!("{reason:?}").into()),
                Output::Event(_) => {}
            }
        }
        // 2. Write what is pending: many messages leave in one write.
        if let Some((_, stream)) = socket.as_mut() {
            let pending = session.pending_transmit();
            let n = pending.len();
            stream.write_all(pending)?;
            session.advance_transmit(n);
        }
        // 3. Wait for bytes, at most until the session's next deadline.
        let wait = session
            .poll_timeout()
            .map(|at| at.saturating_duration_since(Instant::now()));
        match socket.as_mut() {
            _ if wait.is_some_and(|w| w.is_zero()) => {} // a deadline is due now
            Some((generation, stream)) => {
                let generation = *generation;
                stream.set_read_timeout(wait)?; // `None` blocks until bytes come
                let now = Instant::now();
                match stream.read(&mut buf) {
                    Ok(0) => session.handle_input(now, Input::Closed { generation }),
                    Ok(n) => session.handle_input(
                        now,
                        Input::Bytes {
                            generation,
                            data: &buf[..n],
                        },
                    ),
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Err(_) => session.handle_input(now, Input::Closed { generation }),
                }
            }
            None => std::thread::sleep(wait.ok_or("no socket and nothing to wait for")?),
        }
        // 4. Let timers fire (a call before a deadline does nothing).
        session.handle_timeout(Instant::now());
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9001/".into());
    for echo in run(&url, &["hello", "from", "a plain loop"])? {
        println!("echo: {echo}");
    }
    Ok(())
}
