//! Connect, send, request with a timeout, subscribe and wait for the
//! confirmation, read events — with `wsnova-mio` alone.
//!
//! `cargo run -p wsnova-mio --example mio_quickstart -- wss://test.deribit.com/ws/api/v2`
use std::time::Duration;

use wsnova_mio::prelude::*;

/// Runs against a Deribit API v2 endpoint; returns the first ticker update.
pub fn run(url: &str) -> Result<String, Box<dyn std::error::Error>> {
    let event_loop = EventLoop::new()?; // one thread serves every connection
    let (handle, events) = Builder::new(url)?
        .request_timeout(Duration::from_secs(5))
        .connect(&event_loop, Deribit::new())?;

    // A raw message, framed and written at once (its answer is not matched
    // to a caller: requests below are).
    handle.send_text(r#"{"jsonrpc":"2.0","id":9001,"method":"public/test"}"#)?;

    // A request with params from any serializable value, under its own timeout.
    let time = handle.request_timeout("public/get_time", &(), Duration::from_secs(2))?;
    println!("server time: {time}");

    // Subscribe, and block until the server has confirmed the channel.
    let channel = "ticker.BTC-PERPETUAL.100ms";
    handle.subscribe_timeout(&[channel], Duration::from_secs(5))?;

    // Events: notifications for the channel, plus lifecycle news.
    let update = loop {
        match events.recv_timeout(Duration::from_secs(5))? {
            Event::Notification { channel, data } => break format!("{channel}: {data}"),
            Event::Disconnected { reason, .. } => println!("lost: {reason:?}"),
            _ => {}
        }
    };
    println!("{update}");
    handle.close()?;
    Ok(update)
}

#[allow(dead_code)]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1).ok_or("usage: quickstart URL")?;
    run(&url).map(drop)
}
