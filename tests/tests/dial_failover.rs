//! Dialing on both drivers: Happy Eyeballs (RFC 8305) over a host whose
//! addresses are an unreachable IPv6 one (`[::1]` where nothing listens,
//! or where connects hang: a listener whose accept queue is full) and
//! `127.0.0.1`; endpoint failover from a dead primary URL to a live
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

/// An IPv6 loopback address where connects hang: a listener that never
/// accepts, its queue (backlog 0) filled by one connection. Keep the
/// returned values alive while it is used.
fn black_hole() -> (tokio::net::TcpListener, std::net::TcpStream, SocketAddr) {
    let socket = tokio::net::TcpSocket::new_v6().unwrap();
    socket.bind("[::1]:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let filler = std::net::TcpStream::connect(addr).unwrap();
    (listener, filler, addr)
}

/// `localhost` whose IPv6 address hangs: IPv4 wins after its head start.
fn hanging_ipv6(server: &EchoServer, hole: SocketAddr) -> Builder {
    let v4 = SocketAddr::from(([127, 0, 0, 1], server.addr().port()));
    Builder::new(&format!("ws://localhost:{}/", server.addr().port()))
        .unwrap()
        .no_proxy()
        .addresses([v4, hole])
}

const HEAD_START: Duration = wsnova_core::driver::CONNECTION_ATTEMPT_DELAY;

#[tokio::test]
async fn ipv4_starts_after_the_hanging_ipv6_attempts_head_start_on_both_drivers() {
    let server = EchoServer::start();
    let (_listener, _filler, hole) = black_hole();
    let started = std::time::Instant::now();
    tokio_echo(hanging_ipv6(&server, hole)).await;
    let took = started.elapsed();
    assert!(took >= HEAD_START && took < STEP, "tokio took {took:?}");
    let started = std::time::Instant::now();
    mio_echo(hanging_ipv6(&server, hole));
    let took = started.elapsed();
    assert!(took >= HEAD_START && took < STEP, "mio took {took:?}");
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
