//! Embedding wsnova-mio in a mio loop you run yourself: two WebSocket
//! [`Connection`]s and a TCP listener of the application's own share one
//! `Poll` and one thread.
//!
//! The application is a small bridge: every line a TCP client sends goes
//! out as a text message on both WebSocket connections, and every text
//! message that comes back is written to the clients as `<name>: <text>`.
//! The line `quit` closes both connections; the loop ends once they are
//! closed.
//!
//! ```text
//! cargo run -p wsnova-mio --example embedded -- ws://127.0.0.1:9001/ wss://echo.example/
//! nc 127.0.0.1 <the printed port>
//! ```
//!
//! What the loop owes each connection: route mio events with its token to
//! [`Connection::handle_event`], call [`Connection::handle_timeout`] once
//! [`Connection::poll_timeout`] has passed, hand the [`Resolver`]'s answers
//! to [`Connection::handle_resolved`], and drain [`Connection::poll_event`].

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::Instant;

use wsnova_mio::mio::net::{TcpListener, TcpStream};
use wsnova_mio::mio::{Events, Interest, Poll, Token, Waker};
use wsnova_mio::{CloseCode, Event, Message, Plain, SessionConfig};
use wsnova_mio::{Connection, Resolver};

/// The application's own listener.
const LISTENER: Token = Token(0);
/// The resolver's waker (host names are looked up off this thread).
const WAKER: Token = Token(1);
/// The two WebSocket connections.
const SOCKETS: [Token; 2] = [Token(10), Token(11)];
/// TCP clients get tokens from here on.
const FIRST_CLIENT: usize = 100;

/// What a run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// TCP clients accepted.
    pub clients: usize,
    /// Lines sent to the WebSocket connections (each on both).
    pub lines: usize,
    /// Text messages received from the WebSocket connections.
    pub echoes: usize,
}

/// One TCP client: what it sent but we have not split into lines yet, and
/// what we owe it.
struct Client {
    stream: TcpStream,
    input: Vec<u8>,
    output: Vec<u8>,
}

/// Runs the bridge between `listener`'s clients and the WebSocket servers
/// at `urls` until a client sends `quit` and both connections are closed.
pub fn run(urls: [&str; 2], listener: std::net::TcpListener) -> io::Result<Report> {
    let mut poll = Poll::new()?;
    let registry = Arc::new(poll.registry().try_clone()?);
    let resolver = Resolver::new(Arc::new(Waker::new(poll.registry(), WAKER)?));
    let mut connections = Vec::new();
    for (url, token) in urls.into_iter().zip(SOCKETS) {
        let config = SessionConfig::new(url).map_err(io::Error::other)?;
        let mut connection =
            Connection::new(config, Plain, registry.clone(), token).with_resolver(resolver.clone());
        connection.connect().map_err(io::Error::other)?;
        connections.push(connection);
    }
    listener.set_nonblocking(true)?;
    let mut listener = TcpListener::from_std(listener);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let mut clients: HashMap<Token, Client> = HashMap::new();
    let mut report = Report::default();
    let mut events = Events::with_capacity(256);

    while !connections.iter().all(Connection::is_finished) {
        // Sleep until the earliest deadline of any connection (or an event).
        let next = connections
            .iter()
            .filter_map(Connection::poll_timeout)
            .min();
        poll.poll(
            &mut events,
            next.map(|at| at.saturating_duration_since(Instant::now())),
        )?;

        let mut lines = Vec::new();
        for event in events.iter() {
            match event.token() {
                LISTENER => loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let token = Token(FIRST_CLIENT + report.clients);
                            let interest = Interest::READABLE | Interest::WRITABLE;
                            poll.registry().register(&mut stream, token, interest)?;
                            let (input, output) = (Vec::new(), Vec::new());
                            clients.insert(
                                token,
                                Client {
                                    stream,
                                    input,
                                    output,
                                },
                            );
                            report.clients += 1;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                },
                WAKER => {
                    for token in resolver.finished() {
                        for connection in connections.iter_mut().filter(|c| c.token() == token) {
                            connection.handle_resolved();
                        }
                    }
                }
                token if SOCKETS.contains(&token) => {
                    for connection in connections.iter_mut().filter(|c| c.token() == token) {
                        connection.handle_event(event);
                    }
                }
                token => {
                    if let Some(client) = clients.get_mut(&token) {
                        if !read_lines(client, &mut lines) {
                            clients.remove(&token); // EOF or error
                        }
                    }
                }
            }
        }

        for line in lines {
            for connection in &mut connections {
                let result = if line == "quit" {
                    connection.close(CloseCode::NORMAL, "bye")
                } else {
                    connection.send_text(&line)
                };
                if let Err(err) = result {
                    eprintln!("{:?}: {err}", connection.token());
                }
            }
            report.lines += usize::from(line != "quit");
        }

        let now = Instant::now();
        for (name, connection) in ["a", "b"].into_iter().zip(&mut connections) {
            if connection.poll_timeout().is_some_and(|at| at <= now) {
                connection.handle_timeout(now);
            }
            while let Some(event) = connection.poll_event() {
                let line = match event {
                    Event::Message(Message::Text(text)) => {
                        report.echoes += 1;
                        format!("{name}: {}\n", text.as_str())
                    }
                    Event::Ready => format!("{name} is ready\n"),
                    Event::Closed { .. } => format!("{name} is closed\n"),
                    _ => continue,
                };
                for client in clients.values_mut() {
                    client.output.extend_from_slice(line.as_bytes());
                }
            }
        }
        for client in clients.values_mut() {
            let _ = write_some(client);
        }
    }
    Ok(report)
}

/// Reads what the client sent (edge-triggered: until `WouldBlock`) and
/// appends its complete lines to `lines`; `false` when the client is gone.
fn read_lines(client: &mut Client, lines: &mut Vec<String>) -> bool {
    let mut buf = [0u8; 4096];
    let open = loop {
        match client.stream.read(&mut buf) {
            Ok(0) => break false,
            Ok(n) => client.input.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break false,
        }
    };
    while let Some(end) = client.input.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = client.input.drain(..=end).collect();
        lines.push(String::from_utf8_lossy(&line).trim().to_owned());
    }
    open && write_some(client)
}

/// Writes what the client is owed, as far as its socket takes it.
fn write_some(client: &mut Client) -> bool {
    while !client.output.is_empty() {
        match client.stream.write(&client.output) {
            Ok(n) => drop(client.output.drain(..n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
    true
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a = args.first().map_or("ws://127.0.0.1:9001/", String::as_str);
    let b = args.get(1).map_or(a, String::as_str);
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    println!(
        "bridging {a} and {b}; connect to {}",
        listener.local_addr()?
    );
    let report = run([a, b], listener)?;
    println!("{report:?}");
    Ok(())
}
