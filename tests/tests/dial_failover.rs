//! Dialing on both drivers: Happy Eyeballs (RFC 8305) over a host whose
//! addresses are an unreachable IPv6 one (`[::1]` where nothing listens)
//! and `127.0.0.1`; endpoint failover from a dead primary URL to a live
//! backup, with `status().endpoint` naming the one in use.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_core::driver::Builder;
use wsnova_core::session::{Event, Plain};
use wsnova_core::wire::Message;
use wsnova_tests::EchoServer;

const STEP: Duration = Duration::from_secs(10);

/// A loopback port where nothing listens.
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `localhost` as a dual-stack host: `[::1]` first (nothing listens there
/// on the echo server's port), then `127.0.0.1`.
fn dual_stack(server: &EchoServer) -> Builder {
    let port = server.addr().port();
    let addrs: [SocketAddr; 2] = [
        SocketAddr::from(([127, 0, 0, 1], port)),
        format!("[::1]:{port}").parse().unwrap(),
    ];
    Builder::new(&format!("ws://localhost:{port}/"))
        .unwrap()
        .no_proxy()
        .addresses(addrs)
}

async fn tokio_echo(builder: Builder) -> String {
    let (client, mut events) = timeout(STEP, wsnova_tokio::connect(builder, Plain))
        .await
        .unwrap()
        .unwrap();
    client.send_text("hi").await.unwrap();
    loop {
        match timeout(STEP, events.next()).await.unwrap() {
            Some(Event::Message(m)) => break assert_eq!(m, Message::text("hi")),
            Some(_) => {}
            None => panic!("events ended"),
        }
    }
    let endpoint = format!("{:?}", client.status().endpoint.unwrap());
    client.close().await.unwrap();
    endpoint
}

fn mio_echo(builder: Builder) -> String {
    let event_loop = wsnova_mio::EventLoop::new().unwrap();
    let (handle, events) = event_loop.connect(builder, Plain).unwrap();
    handle.send_text("hi").unwrap();
    loop {
        if let Event::Message(m) = events.recv_timeout(STEP).unwrap() {
            break assert_eq!(m, Message::text("hi"));
        }
    }
    let endpoint = format!("{:?}", handle.status().endpoint.unwrap());
    handle.close().unwrap();
    endpoint
}

#[tokio::test]
async fn happy_eyeballs_falls_back_from_unreachable_ipv6_to_ipv4_on_tokio() {
    let server = EchoServer::start();
    tokio_echo(dual_stack(&server)).await;
}

#[test]
fn happy_eyeballs_falls_back_from_unreachable_ipv6_to_ipv4_on_mio() {
    let server = EchoServer::start();
    mio_echo(dual_stack(&server));
}

#[test]
fn happy_eyeballs_reports_the_last_error_when_every_address_fails() {
    let port = dead_port();
    let addrs = [
        SocketAddr::from(([127, 0, 0, 1], port)),
        format!("[::1]:{port}").parse().unwrap(),
    ];
    let builder = Builder::new(&format!("ws://localhost:{port}/"))
        .unwrap()
        .no_proxy()
        .addresses(addrs);
    let event_loop = wsnova_mio::EventLoop::new().unwrap();
    let Err(err) = event_loop.connect(builder, Plain) else {
        panic!("nothing listens");
    };
    assert!(err.to_string().to_lowercase().contains("refused"), "{err}");
}

fn failover(server: &EchoServer) -> (Builder, String) {
    let dead = format!("ws://127.0.0.1:{}/", dead_port());
    let builder = Builder::new(&dead)
        .unwrap()
        .no_proxy()
        .failover_url(&server.url())
        .unwrap();
    (
        builder,
        format!(
            "{:?}",
            wsnova_core::wire::Endpoint::parse(&server.url()).unwrap()
        ),
    )
}

#[tokio::test]
async fn a_dead_primary_fails_over_to_the_backup_on_tokio() {
    let server = EchoServer::start();
    let (builder, backup) = failover(&server);
    // `connect` fails fast by default, but only after every endpoint was tried.
    assert_eq!(tokio_echo(builder).await, backup);
}

#[test]
fn a_dead_primary_fails_over_to_the_backup_on_mio() {
    let server = EchoServer::start();
    let (builder, backup) = failover(&server);
    assert_eq!(mio_echo(builder), backup);
}

#[tokio::test]
async fn failing_fast_still_fails_once_every_endpoint_was_tried() {
    let dead = |_| format!("ws://127.0.0.1:{}/", dead_port());
    let builder = Builder::new(&dead(0))
        .unwrap()
        .no_proxy()
        .failover_url(&dead(1))
        .unwrap();
    let result = timeout(STEP, wsnova_tokio::connect(builder, Plain))
        .await
        .unwrap();
    assert!(result.is_err());
}
