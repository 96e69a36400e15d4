//! The bare core in your own loop: a `Session<Plain>` over a blocking `std::net::TcpStream`,
//! no driver, no async runtime. Run it against any echo server:
//! `cargo run -p wsnova-core --example std_loop -- ws://127.0.0.1:9001/`

use std::error::Error;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use wsnova_core::session::{CloseReason, Event, Input, Output, Plain, Session, SessionConfig};
use wsnova_core::wire::CloseCode;

/// Connects to `url` (ws or wss), sends `messages` once ready, returns the echoes, closes cleanly.
pub fn run(url: &str, messages: &[&str]) -> Result<Vec<String>, Box<dyn Error>> {
    let mut config = SessionConfig::new(url)?;
    config.fail_before_first_ready = true; // a wrong URL fails instead of retrying
    let clock = Instant::now; // read the time afresh for every input
    let mut session = Session::new(config, Plain, clock());
    session.connect(clock())?;
    let mut socket: Option<(u64, TcpStream)> = None; // with its dial's generation
    let (mut echoes, mut buf) = (Vec::new(), [0; 16 * 1024]);
    loop {
        // 1. Do what the session asks, and handle its events.
        while let Some(output) = session.poll_output() {
            match output {
                Output::Dial {
                    generation,
                    host,
                    port,
                } => match TcpStream::connect((host.as_str(), port)) {
                    Ok(stream) => {
                        socket = Some((generation, stream));
                        session.handle_input(clock(), Input::Connected { generation });
                    }
                    Err(e) => {
                        let error = &e.to_string();
                        session.handle_input(clock(), Input::ConnectFailed { generation, error });
                    }
                },
                Output::CloseTransport { flush, .. } => {
                    if let Some((_, mut stream)) = socket.take() {
                        let _ = stream.write_all(&flush); // best effort: it is closing
                    }
                }
                Output::Event(Event::Ready) => {
                    for message in messages {
                        session.send_text(clock(), message)?;
                    }
                }
                Output::Event(Event::Message(message)) => {
                    echoes.push(String::from_utf8_lossy(message.as_bytes()).into_owned());
                    if echoes.len() == messages.len() {
                        session.close(clock(), CloseCode::NORMAL, "done")?;
                    }
                }
                Output::Event(Event::Closed {
                    reason: CloseReason::User,
                }) => return Ok(echoes),
                Output::Event(Event::Closed { reason }) => return Err(format!("{reason:?}").into()),
                _ => {} // `Transmit` is served below; other events do not matter here
            }
        }
        let wait = |s: &Session<Plain>| {
            s.poll_timeout()
                .map(|at| at.saturating_duration_since(clock()))
        };
        match socket.as_mut() {
            None => std::thread::sleep(wait(&session).ok_or("nothing to wait for")?), // backing off
            Some(&mut (generation, ref mut stream)) => {
                // 2. Write what is pending: many messages leave in one write.
                let pending = session.pending_transmit();
                let n = pending.len();
                stream.write_all(pending)?;
                session.advance_transmit(n);
                // 3. Read until the next deadline (no deadline: block until bytes come).
                stream.set_read_timeout(wait(&session).map(|w| w.max(Duration::from_millis(1))))?;
                match stream.read(&mut buf) {
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Ok(0) | Err(_) => session.handle_input(clock(), Input::Closed { generation }),
                    Ok(n) => {
                        let data = &buf[..n];
                        session.handle_input(clock(), Input::Bytes { generation, data });
                    }
                }
            }
        }
        session.handle_timeout(clock()); // 4. let due timers fire (early calls do nothing)
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let Some(url) = std::env::args().nth(1) else {
        return Err("usage: std_loop <url>".into());
    };
    for echo in run(&url, &["hello", "from", "a plain loop"])? {
        println!("echo: {echo}");
    }
    Ok(())
}
