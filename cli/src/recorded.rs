//! `--record FILE`: the connection runs on a small loop of the CLI's own
//! over the core's [`RecordingSession`] (the drivers have no recording
//! hook yet), which writes every input, command and output to FILE as JSON
//! Lines, secrets redacted. The same flags apply; `--subscribe` and
//! `--request` go out once the first `Ready` comes, without waiting for
//! each other; stdin is read from the first `Ready` on. No status line,
//! no `--metrics`.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufWriter;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use wsnova_tokio::core::record::RecordingSession;
use wsnova_tokio::core::session::{Input, Output};
use wsnova_tokio::{Adapter, CloseCode, Event, SessionConfig};

use crate::args::Args;
use crate::exit::Exit;
use crate::output::{Printer, close_text};

/// Runs the session of `config` and `adapter`, recording to `file`.
pub async fn run<A: Adapter>(
    args: &Args,
    config: SessionConfig,
    adapter: A,
    file: File,
    printer: &Printer,
) -> Exit {
    let mut session = RecordingSession::new(config, adapter, Instant::now(), BufWriter::new(file));
    if let Ok(unix) = SystemTime::now().duration_since(UNIX_EPOCH) {
        session.set_unix_time(Instant::now(), unix.as_millis() as u64);
    }
    if let Err(error) = session.connect(Instant::now()) {
        printer.stderr(&error.to_string());
        return Exit::Usage;
    }
    let mut loop_state = Loop::default();
    let exit = loop_state.drive(args, &mut session, printer).await;
    if let Err(error) = session.finish() {
        printer.stderr(&format!("--record: {error}"));
        return Exit::Internal;
    }
    exit
}

#[derive(Default)]
struct Loop {
    socket: Option<(u64, TcpStream)>,
    ready_once: bool,
    requests: HashMap<u64, String>,
    seen: u64,
    stdin_done: bool,
    outcome: Option<Exit>,
}

impl Loop {
    async fn drive<A: Adapter, W: std::io::Write + Send + 'static>(
        &mut self,
        args: &Args,
        s: &mut RecordingSession<A, W>,
        printer: &Printer,
    ) -> Exit {
        let mut stdin = BufReader::new(tokio::io::stdin()).lines();
        self.stdin_done = args.no_stdin;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            while let Some(output) = s.poll_output() {
                if let Some(exit) = self.on_output(args, s, printer, output).await {
                    return exit;
                }
            }
            if let Some((generation, stream)) = self.socket.as_mut() {
                let pending = s.pending_transmit().to_vec();
                if !pending.is_empty() {
                    let generation = *generation;
                    if stream.write_all(&pending).await.is_err() {
                        s.handle_input(Instant::now(), Input::Closed { generation });
                        continue;
                    }
                    s.advance_transmit(pending.len());
                }
            }
            let deadline = s.poll_timeout().map(tokio::time::Instant::from_std);
            let read = async {
                match self.socket.as_mut() {
                    Some((generation, stream)) => (*generation, stream.read(&mut buf).await),
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                (generation, read) = read => match read {
                    Ok(0) | Err(_) => s.handle_input(Instant::now(), Input::Closed { generation }),
                    Ok(n) => s.handle_input(Instant::now(), Input::Bytes { generation, data: &buf[..n] }),
                },
                _ = sleep_until(deadline) => {}
                line = stdin.next_line(), if self.ready_once && !self.stdin_done => match line {
                    Ok(Some(line)) => {
                        let line = line.strip_suffix('\r').unwrap_or(&line);
                        let _ = s.send_text(Instant::now(), line);
                    }
                    _ => {
                        self.stdin_done = true;
                        let _ = s.close(Instant::now(), CloseCode::NORMAL, "");
                    }
                },
                _ = tokio::signal::ctrl_c() => {
                    self.outcome.get_or_insert(Exit::Interrupted);
                    let _ = s.close(Instant::now(), CloseCode::NORMAL, "");
                }
            }
            s.handle_timeout(Instant::now());
        }
    }

    /// Acts on one output; the exit code once the session has closed.
    async fn on_output<A: Adapter, W: std::io::Write + Send + 'static>(
        &mut self,
        args: &Args,
        s: &mut RecordingSession<A, W>,
        printer: &Printer,
        output: Output,
    ) -> Option<Exit> {
        let now = Instant::now;
        match output {
            Output::Dial {
                generation,
                host,
                port,
            } => match TcpStream::connect((host.as_str(), port)).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    self.socket = Some((generation, stream));
                    s.handle_input(now(), Input::Connected { generation });
                }
                Err(e) => {
                    let error = e.to_string();
                    s.handle_input(
                        now(),
                        Input::ConnectFailed {
                            generation,
                            error: &error,
                        },
                    );
                }
            },
            Output::CloseTransport { flush, .. } => {
                if let Some((_, mut stream)) = self.socket.take() {
                    let _ = stream.write_all(&flush).await;
                }
            }
            Output::Event(Event::Ready) if !self.ready_once => {
                self.ready_once = true;
                let _ = printer.event(&Event::Ready);
                let channels: Vec<&str> = args.subscribe.iter().map(String::as_str).collect();
                if !channels.is_empty() {
                    let _ = s.subscribe(now(), &channels);
                }
                for (method, params) in args.requests() {
                    if let Ok(id) = s.request(now(), method, params) {
                        self.requests.insert(id.0, method.to_owned());
                    }
                }
            }
            Output::Event(Event::Response { id, result }) if self.requests.contains_key(&id.0) => {
                let method = self.requests.remove(&id.0).unwrap_or_default();
                if printer.response(&method, result.as_str()).is_err() {
                    self.fail(s, Exit::Internal);
                }
            }
            Output::Event(Event::RequestFailed { id, error })
                if self.requests.contains_key(&id.0) =>
            {
                let method = self.requests.remove(&id.0).unwrap_or_default();
                printer.stderr(&format!("--request {method}: {error}"));
                self.fail(s, Exit::RequestFailed);
            }
            Output::Event(Event::SubscriptionFailed { channels, error }) => {
                printer.stderr(&format!("--subscribe: refused {channels:?}: {error}"));
                self.fail(s, Exit::RequestFailed);
            }
            Output::Event(Event::Closed { reason }) => {
                let _ = printer.event(&Event::Closed {
                    reason: reason.clone(),
                });
                let exit = Exit::of_close(&reason);
                if !self.ready_once {
                    printer.stderr(&format!("connection failed: {}", close_text(&reason)));
                    let failed = if exit == Exit::AuthFailed {
                        exit
                    } else {
                        Exit::ConnectFailed
                    };
                    return Some(self.outcome.unwrap_or(failed));
                }
                return Some(self.outcome.unwrap_or(exit));
            }
            Output::Event(event) => {
                let data = matches!(event, Event::Message(_) | Event::Notification { .. });
                if data && args.count.is_some_and(|n| self.seen >= n) {
                    return None;
                }
                match printer.event(&event) {
                    Ok(true) => {
                        self.seen += 1;
                        if args.count == Some(self.seen) {
                            let _ = s.close(now(), CloseCode::NORMAL, "");
                        }
                    }
                    Ok(false) => {}
                    Err(_) => self.fail(s, Exit::Internal),
                }
            }
            Output::Transmit { .. } => {}
        }
        None
    }

    fn fail<A: Adapter, W: std::io::Write + Send + 'static>(
        &mut self,
        s: &mut RecordingSession<A, W>,
        exit: Exit,
    ) {
        self.outcome.get_or_insert(exit);
        let _ = s.close(Instant::now(), CloseCode::NORMAL, "");
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
