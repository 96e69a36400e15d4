//! Dialing with Happy Eyeballs (RFC 8305): resolve, then race the
//! addresses in the order and at the times the core's [`HappyEyeballs`]
//! says. The first connection wins; dropping the others closes them.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::net::TcpStream;
use wsnova_core::driver::HappyEyeballs;

use crate::driver::now;

type Attempt = Pin<Box<dyn Future<Output = io::Result<TcpStream>> + Send>>;

/// Connects to `host:port`, or to `addresses` when given (no lookup).
pub(crate) async fn dial(
    host: &str,
    port: u16,
    addresses: Vec<SocketAddr>,
) -> io::Result<TcpStream> {
    let addresses = if addresses.is_empty() {
        tokio::net::lookup_host((host, port)).await?.collect()
    } else {
        addresses
    };
    race(addresses).await
}

/// RFC 8305 §5: start the next attempt after the previous one's head
/// start or failure; the first to connect wins.
async fn race(addresses: Vec<SocketAddr>) -> io::Result<TcpStream> {
    let mut eyeballs = HappyEyeballs::new(addresses, now());
    let mut attempts: FuturesUnordered<Attempt> = FuturesUnordered::new();
    let mut last_error = None;
    loop {
        while let Some(addr) = eyeballs.poll_start(now()) {
            tracing::trace!(%addr, "connecting");
            attempts.push(Box::pin(TcpStream::connect(addr)));
        }
        if eyeballs.is_exhausted() {
            return Err(last_error.unwrap_or_else(|| io::Error::other("no address to dial")));
        }
        let next_start = eyeballs.poll_timeout();
        let head_start = async {
            match next_start {
                Some(at) => tokio::time::sleep_until(at.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            Some(result) = attempts.next() => match result {
                Ok(stream) => return Ok(stream), // the losers drop with `attempts`
                Err(err) => {
                    last_error = Some(err);
                    eyeballs.on_failed(now());
                }
            },
            () = head_start => {}
        }
    }
}
