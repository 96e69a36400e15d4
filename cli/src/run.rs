//! One connection from the command line: connect, subscribe, send the
//! requests, pump stdin into messages while a task prints every event, and
//! end with a close handshake and an exit code.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::Notify;
use wsnova_tokio::prelude::*;
use wsnova_tokio::{CloseReason, ConnectError};

use crate::args::{AdapterKind, Args};
use crate::exit::Exit;
use crate::health::Watched;
use crate::output::{Printer, close_text, describe};
use crate::status::StatusLine;

/// How long the close handshake and the last events may take at the end.
const CLOSE_GRACE: Duration = Duration::from_secs(10);

/// Runs the connection `builder` describes as `args` asks; the exit code.
pub async fn run(args: &Args, builder: Builder, watched: Option<Watched>) -> Exit {
    let status = StatusLine::new(args.quiet);
    let printer = Printer::new(args.json, args.binary, args.print_ping_rtts, status.clone());
    // `--record` is the drivers' own recording (`Builder::record`): the
    // file is created when the connection starts.
    let builder = match &args.record {
        Some(path) => builder.record(path),
        None => builder,
    };
    let connected = match args.adapter {
        AdapterKind::Plain => builder.connect(Plain).await,
        AdapterKind::Jsonrpc => builder.connect(JsonRpc::new()).await,
        AdapterKind::Deribit => builder.connect(Deribit::new()).await,
        AdapterKind::Binance => builder.connect(Binance::spot()).await,
    };
    let (client, events) = match connected {
        Ok(pair) => pair,
        Err(error) => {
            printer.stderr(&connect_error_text(&error));
            return connect_exit(&error);
        }
    };
    if let Some(watched) = watched {
        watched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(client.clone());
    }
    let count_reached = Arc::new(Notify::new());
    let mut printing = tokio::spawn(print_events(
        events,
        printer.clone(),
        args.count,
        count_reached.clone(),
    ));
    let ticker = status.is_live().then(|| {
        let (client, status) = (client.clone(), status.clone());
        tokio::spawn(async move {
            loop {
                status.draw(&client.status());
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    });

    // `--count` ends the run only once the subscriptions and requests have
    // their answers: a notification that overtakes a response must not cut
    // the response off (`Notify` keeps the permit of a count reached meanwhile).
    let outcome = tokio::select! {
        done = async {
            setup(args, &client, &printer).await?;
            tokio::select! {
                done = pump_stdin(args, &client) => done.map_err(|error| {
                    printer.stderr(&format!("stdin: {error}"));
                    Exit::Internal
                }),
                _ = count_reached.notified() => Ok(()),
            }
        } => done,
        _ = tokio::signal::ctrl_c() => Err(Exit::Interrupted),
        ended = &mut printing => {
            // The session ended by itself (the server, a lost connection).
            if let Some(ticker) = ticker { ticker.abort(); }
            status.clear();
            return finish(ended);
        }
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, client.close()).await;
    let ended = tokio::time::timeout(CLOSE_GRACE, printing).await;
    if let Some(ticker) = ticker {
        ticker.abort();
    }
    status.clear();
    match (outcome, ended) {
        (Err(exit), _) => exit,
        (Ok(()), Ok(ended)) => finish(ended),
        (Ok(()), Err(_)) => Exit::ConnectionLost,
    }
}

/// The exit code for the printing task's end.
fn finish(ended: Result<std::io::Result<Option<CloseReason>>, tokio::task::JoinError>) -> Exit {
    match ended {
        Ok(Ok(Some(reason))) => Exit::of_close(&reason),
        Ok(Ok(None)) => Exit::ConnectionLost,
        Ok(Err(_)) | Err(_) => Exit::Internal,
    }
}

/// Subscribes (waiting for the confirmations) and sends the requests, one
/// after another, printing each response.
async fn setup(args: &Args, client: &Client, printer: &Printer) -> Result<(), Exit> {
    if !args.subscribe.is_empty() {
        let channels: Vec<&str> = args.subscribe.iter().map(String::as_str).collect();
        if let Err(error) = client
            .subscribe_timeout(&channels, args.request_timeout)
            .await
        {
            printer.stderr(&format!("--subscribe: {error}"));
            return Err(Exit::RequestFailed);
        }
    }
    for (method, params) in args.requests() {
        match client.request_raw(method, params).await {
            Ok(result) => printer
                .response(method, result.as_str())
                .map_err(|_| Exit::Internal)?,
            Err(error) => {
                printer.stderr(&format!("--request {method}: {error}"));
                return Err(Exit::RequestFailed);
            }
        }
    }
    Ok(())
}

/// Sends each stdin line as a message (or waits forever with
/// `--no-stdin`). `Ok` when stdin ends or the session can take no more.
async fn pump_stdin(args: &Args, client: &Client) -> std::io::Result<()> {
    if args.no_stdin {
        std::future::pending::<()>().await;
    }
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let line = line.strip_suffix('\r').unwrap_or(&line);
        if client.send_text(line).await.is_err() {
            return Ok(()); // the session ended: the printer says why
        }
    }
    Ok(())
}

/// Prints every event until the stream ends; the session's close reason.
/// After `count` messages and notifications it tells `count_reached` and
/// prints no more data.
async fn print_events(
    mut events: Events,
    printer: Printer,
    count: Option<u64>,
    count_reached: Arc<Notify>,
) -> std::io::Result<Option<CloseReason>> {
    let mut seen = 0u64;
    let mut closed = None;
    while let Some(event) = events.recv().await {
        if let Event::Closed { reason } = &event {
            closed = Some(reason.clone());
        }
        let data = matches!(event, Event::Message(_) | Event::Notification { .. });
        if data && count.is_some_and(|n| seen >= n) {
            continue;
        }
        if printer.event(&event)? {
            seen += 1;
            if count == Some(seen) {
                count_reached.notify_one();
            }
        }
    }
    Ok(closed)
}

fn connect_exit(error: &ConnectError) -> Exit {
    match error {
        ConnectError::Config(_) | ConnectError::Invalid(_) | ConnectError::InvalidOption(_) => {
            Exit::Usage
        }
        ConnectError::Closed(reason) if Exit::of_close(reason) == Exit::AuthFailed => {
            Exit::AuthFailed
        }
        ConnectError::Failed(wsnova_tokio::DisconnectReason::AuthFailed(_)) => Exit::AuthFailed,
        _ => Exit::ConnectFailed,
    }
}

fn connect_error_text(error: &ConnectError) -> String {
    match error {
        ConnectError::Failed(reason) => format!("connection failed: {}", describe(reason)),
        ConnectError::Closed(reason) => format!("connection failed: {}", close_text(reason)),
        other => other.to_string(),
    }
}
