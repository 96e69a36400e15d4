//! Proxy failures are typed errors with a documented retry behaviour,
//! checked against real proxies: missing or bad credentials (HTTP 407,
//! SOCKS5 methods and RFC 1929) stop at once even when retrying was asked
//! for; a proxy's refusal carries the HTTP status (403 stops, 5xx is
//! retried); SOCKS5 reply codes come by name; an unreachable proxy is
//! named and retried.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_core::driver::{Builder, ConnectError};
use wsnova_core::session::{
    BackoffConfig, BackoffStrategy, CloseReason, DisconnectReason, Event, Plain,
};
use wsnova_core::wire::{ProxyError, SocksReply, WireError};
use wsnova_tests::EchoServer;
use wsnova_tests::proxies::{Microsocks, Tinyproxy};

const STEP: Duration = Duration::from_secs(10);
const CREDS: (&str, &str) = ("alice", "s3cret.pw");
const WRONG: (&str, &str) = ("alice", "hunter2");

/// A loopback port where nothing listens.
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn via(target: &str, proxy: &str) -> Builder {
    Builder::new(target).unwrap().proxy(proxy).unwrap()
}

fn proxy_error(err: ConnectError) -> ProxyError {
    match err {
        ConnectError::Failed(DisconnectReason::Wire(WireError::Proxy(e))) => e,
        other => panic!("not a proxy error: {other:?}"),
    }
}

async fn tokio_error(builder: Builder) -> ProxyError {
    let result = timeout(STEP, wsnova_tokio::connect(builder, Plain))
        .await
        .expect("fails in time");
    match result {
        Ok(_) => panic!("the connection should fail"),
        Err(err) => proxy_error(err),
    }
}

fn mio_error(builder: Builder) -> ProxyError {
    let event_loop = wsnova_mio::EventLoop::new().unwrap();
    match event_loop.connect(builder, Plain) {
        Ok(_) => panic!("the connection should fail"),
        Err(err) => proxy_error(err),
    }
}

fn fast_backoff() -> BackoffConfig {
    BackoffConfig {
        strategy: BackoffStrategy::Exponential,
        base: Duration::from_millis(10),
        max_delay: Duration::from_millis(50),
        max_attempts: None,
    }
}

/// With retries asked for: the `reconnect_in` of the first `Disconnected`,
/// and the `Closed` reason if the session gave up on its own.
async fn first_loss(builder: Builder) -> (Option<Duration>, Option<CloseReason>) {
    let builder = builder.retry_initial_connect(true).backoff(fast_backoff());
    let (client, mut events) = wsnova_tokio::spawn_without_waiting(builder, Plain).unwrap();
    let reconnect_in = loop {
        match timeout(STEP, events.next()).await.unwrap() {
            Some(Event::Disconnected { reconnect_in, .. }) => break reconnect_in,
            Some(_) => {}
            None => panic!("events ended without a loss"),
        }
    };
    if reconnect_in.is_some() {
        // Retried: the next attempt starts.
        loop {
            match timeout(STEP, events.next()).await.unwrap() {
                Some(Event::Reconnecting { .. }) => break,
                Some(_) => {}
                None => panic!("events ended"),
            }
        }
        client.close().await.unwrap();
        return (reconnect_in, None);
    }
    loop {
        match timeout(STEP, events.next()).await.unwrap() {
            Some(Event::Closed { reason }) => return (None, Some(reason)),
            Some(_) => {}
            None => panic!("events ended without Closed"),
        }
    }
}

#[tokio::test]
async fn http_proxy_credentials_missing_or_wrong_stop_both_drivers() {
    let echo = EchoServer::start();
    let proxy = Tinyproxy::start(Some(CREDS));
    let none = || via(&echo.url(), &proxy.url_with(None));
    let wrong = || via(&echo.url(), &proxy.url_with(Some(WRONG)));
    assert_eq!(
        tokio_error(none()).await,
        ProxyError::AuthenticationRequired
    );
    assert_eq!(mio_error(none()), ProxyError::AuthenticationRequired);
    let err = tokio_error(wrong()).await;
    assert_eq!(err, ProxyError::AuthenticationFailed);
    assert!(!format!("{err:?} {err}").contains("hunter2"));
    assert_eq!(mio_error(wrong()), ProxyError::AuthenticationFailed);
    // Retrying was asked for, yet bad credentials stop after one attempt.
    let (reconnect_in, closed) = first_loss(wrong()).await;
    assert_eq!(reconnect_in, None);
    let stopped = DisconnectReason::Wire(WireError::Proxy(ProxyError::AuthenticationFailed));
    assert_eq!(closed, Some(CloseReason::Stopped(stopped)));
}

#[tokio::test]
async fn http_proxy_refusals_carry_the_status_403_stops_5xx_retries() {
    let echo = EchoServer::start();
    // Tunnels only to port 443: the echo server's port is refused with 403.
    let strict = Tinyproxy::start_with(None, &["ConnectPort 443"]);
    let forbidden = || via(&echo.url(), &strict.url());
    let err = tokio_error(forbidden()).await;
    assert!(
        matches!(err, ProxyError::Refused { status: 403, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("HTTP 403"), "{err}");
    let (reconnect_in, closed) = first_loss(forbidden()).await;
    assert_eq!(reconnect_in, None, "403: the proxy's rules forbid it");
    assert!(
        matches!(closed, Some(CloseReason::Stopped(_))),
        "{closed:?}"
    );

    // Nothing listens where the tunnel should go: tinyproxy answers 500.
    let proxy = Tinyproxy::start(None);
    let down = || via(&format!("ws://127.0.0.1:{}/", dead_port()), &proxy.url());
    let err = tokio_error(down()).await;
    assert!(
        matches!(err, ProxyError::Refused { status: 500, .. }),
        "{err:?}"
    );
    assert!(matches!(
        mio_error(down()),
        ProxyError::Refused { status: 500, .. }
    ));
    let (reconnect_in, _) = first_loss(down()).await;
    assert!(reconnect_in.is_some(), "5xx is retried");
}

#[tokio::test]
async fn socks5_credentials_and_reply_codes_by_name_both_drivers() {
    let echo = EchoServer::start();
    let auth = Microsocks::start(Some(CREDS));
    let none = || via(&echo.url(), &auth.url_with(None));
    let wrong = || via(&echo.url(), &auth.url_with(Some(WRONG)));
    assert_eq!(
        tokio_error(none()).await,
        ProxyError::AuthenticationRequired
    );
    assert_eq!(mio_error(none()), ProxyError::AuthenticationRequired);
    assert_eq!(tokio_error(wrong()).await, ProxyError::AuthenticationFailed);
    assert_eq!(mio_error(wrong()), ProxyError::AuthenticationFailed);
    assert_eq!(first_loss(wrong()).await.0, None, "bad credentials stop");

    let open = Microsocks::start(None);
    let refused = || via(&format!("ws://127.0.0.1:{}/", dead_port()), &open.url());
    let err = tokio_error(refused()).await;
    assert_eq!(err, ProxyError::Socks(SocksReply::ConnectionRefused));
    assert!(
        err.to_string().contains("connection refused (X'05')"),
        "{err}"
    );
    assert_eq!(
        mio_error(refused()),
        ProxyError::Socks(SocksReply::ConnectionRefused)
    );
    assert!(
        first_loss(refused()).await.0.is_some(),
        "a refused target is retried"
    );
}

#[tokio::test]
async fn an_unreachable_proxy_is_named_and_retried() {
    let echo = EchoServer::start();
    let port = dead_port();
    for proxy in [
        format!("http://127.0.0.1:{port}"),
        format!("socks5h://127.0.0.1:{port}"),
    ] {
        let builder = || via(&echo.url(), &proxy);
        for err in [tokio_error(builder()).await, mio_error(builder())] {
            match err {
                ProxyError::Unreachable { proxy, .. } => {
                    assert_eq!(proxy, format!("127.0.0.1:{port}"))
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(first_loss(builder()).await.0.is_some(), "proxies restart");
    }
}
