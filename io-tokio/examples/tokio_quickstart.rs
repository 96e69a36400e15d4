//! Connect, send, request with a timeout, subscribe and await the
//! confirmation, read events — with `wsnova-tokio` (and tokio) alone.
//!
//! `cargo run -p wsnova-tokio --example tokio_quickstart -- wss://test.deribit.com/ws/api/v2`
use std::time::Duration;

use wsnova_tokio::prelude::*;

/// Runs against a Deribit API v2 endpoint; returns the first ticker update.
pub async fn run(url: &str) -> Result<String, Box<dyn std::error::Error>> {
    let (client, mut events) = Builder::new(url)?
        .request_timeout(Duration::from_secs(5))
        .connect(Deribit::new())
        .await?;

    // A raw message, framed and written at once (its answer is not matched
    // to a caller: requests below are).
    client
        .send_text(r#"{"jsonrpc":"2.0","id":9001,"method":"public/test"}"#)
        .await?;

    // A request with params from any serializable value, under its own timeout.
    let time = client
        .request_timeout("public/get_time", &(), Duration::from_secs(2))
        .await?;
    println!("server time: {time}");

    // Subscribe, and wait until the server has confirmed the channel.
    let channel = "ticker.BTC-PERPETUAL.100ms";
    client
        .subscribe_timeout(&[channel], Duration::from_secs(5))
        .await?;

    // Events: notifications for the channel, plus lifecycle news.
    let update = loop {
        match events.recv().await {
            Some(Event::Notification { channel, data }) => break format!("{channel}: {data}"),
            Some(Event::Disconnected { reason, .. }) => println!("lost: {reason:?}"),
            Some(_) => {}
            None => return Err("closed before an update".into()),
        }
    };
    println!("{update}");
    client.close().await?;
    Ok(update)
}

#[tokio::main(flavor = "current_thread")]
#[allow(dead_code)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1).ok_or("usage: quickstart URL")?;
    run(&url).await.map(drop)
}
