//! A fixed workload for instruction counts (see `docs/performance.md`):
//! the same feed/flush/recv loop as the benchmark's wsnova-tokio column,
//! against an echo server in another process, on a current-thread runtime.
//!
//! ```text
//! tokio_callgrind PORT rtt|pipe SIZE COUNT
//! ```
//!
//! Run it twice under `valgrind --tool=callgrind` with two `COUNT`s: the
//! difference in instructions over the difference in messages is the cost
//! of one message, with connecting and start-up cancelled out.

use futures_util::StreamExt as _;
use wsnova_core::session::{Event, HeartbeatConfig, Plain};
use wsnova_core::wire::Message;
use wsnova_tokio::{Builder, Client, Connect as _, Events};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [port, mode, size, count] = &args[..] else {
        return Err("usage: tokio_callgrind PORT rtt|pipe SIZE COUNT".into());
    };
    let (port, size, count): (u16, usize, usize) = (port.parse()?, size.parse()?, count.parse()?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (client, mut events) = Builder::new(&format!("ws://127.0.0.1:{port}/"))?
            .heartbeat(HeartbeatConfig {
                ping_interval: None,
                ..HeartbeatConfig::default()
            })
            .connect(Plain)
            .await?;
        let msg = vec![0x5a; size];
        match mode.as_str() {
            "rtt" => {
                for _ in 0..count {
                    client.feed_binary(&msg).await?;
                    client.flush();
                    recv(&mut events, size).await?;
                }
            }
            _ => {
                let window = if size <= 1024 { 4096 } else { 16 };
                pipelined(&client, &mut events, &msg, count, window).await?;
            }
        }
        client.close().await?;
        Ok(())
    })
}

/// The benchmark's pipelining: feed up to `window`, flush, drain to half.
async fn pipelined(
    client: &Client,
    events: &mut Events,
    msg: &[u8],
    n: usize,
    window: usize,
) -> Result<(), Error> {
    let (mut sent, mut received) = (0, 0);
    while received < n {
        while sent < n && sent - received < window {
            client.feed_binary(msg).await?;
            sent += 1;
        }
        client.flush();
        let target = if sent == n { n } else { sent - window / 2 };
        while received < target {
            recv(events, msg.len()).await?;
            received += 1;
        }
    }
    Ok(())
}

async fn recv(events: &mut Events, size: usize) -> Result<(), Error> {
    loop {
        match events.next().await {
            Some(Event::Message(Message::Binary(echo))) if echo.len() == size => return Ok(()),
            Some(Event::Message(_)) => return Err("unexpected echo".into()),
            Some(Event::Closed { reason }) => return Err(format!("{reason:?}").into()),
            Some(_) => continue,
            None => return Err("events ended".into()),
        }
    }
}
