//! Tests of the echo server, driven by tokio-tungstenite's own client.

use std::future::Future;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::WebSocketStream;
use tungstenite::protocol::frame::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Bytes, Message};

use super::{EchoServer, MAX_MESSAGE_SIZE, server_ws_config};
use crate::TestPki;

async fn within<F: Future>(secs: u64, fut: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(secs), fut)
        .await
        .expect("test timed out")
}

async fn connect_plain(server: &EchoServer) -> WebSocketStream<TcpStream> {
    let tcp = TcpStream::connect(server.addr()).await.unwrap();
    let config = server_ws_config();
    let (ws, resp) = tokio_tungstenite::client_async_with_config(server.url(), tcp, Some(config))
        .await
        .unwrap();
    assert_eq!(resp.status(), 101);
    ws
}

async fn connect_tls(
    server: &EchoServer,
    pki: &TestPki,
) -> std::io::Result<WebSocketStream<TlsStream<TcpStream>>> {
    let tcp = TcpStream::connect(server.addr()).await?;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = TlsConnector::from(pki.client_config())
        .connect(name, tcp)
        .await?;
    let (ws, _) = tokio_tungstenite::client_async(server.url(), tls)
        .await
        .unwrap();
    Ok(ws)
}

async fn round_trip<S>(ws: &mut WebSocketStream<S>, msg: Message) -> Message
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.send(msg).await.unwrap();
    ws.next().await.expect("stream ended").expect("read error")
}

#[tokio::test]
async fn echoes_text_and_binary() {
    let server = EchoServer::start();
    assert!(server.url().starts_with("ws://127.0.0.1:"));
    within(5, async {
        let mut ws = connect_plain(&server).await;
        let text = Message::text("hello wsnova");
        assert_eq!(round_trip(&mut ws, text.clone()).await, text);
        let bin = Message::binary(vec![0u8, 1, 2, 255]);
        assert_eq!(round_trip(&mut ws, bin.clone()).await, bin);
    })
    .await;
    assert_eq!(server.connections_accepted(), 1);
}

#[tokio::test]
async fn echoes_a_burst_in_order() {
    let server = EchoServer::start();
    within(5, async {
        let mut ws = connect_plain(&server).await;
        for i in 0..100 {
            ws.feed(Message::text(format!("m{i}"))).await.unwrap();
        }
        ws.flush().await.unwrap();
        for i in 0..100 {
            let got = ws.next().await.unwrap().unwrap();
            assert_eq!(got, Message::text(format!("m{i}")));
        }
    })
    .await;
}

#[tokio::test]
async fn echoes_a_16_mib_message() {
    let server = EchoServer::start();
    within(30, async {
        let mut ws = connect_plain(&server).await;
        let payload: Vec<u8> = (0..16usize << 20).map(|i| (i % 251) as u8).collect();
        let got = round_trip(&mut ws, Message::binary(payload.clone())).await;
        assert_eq!(got.into_data(), Bytes::from(payload));
    })
    .await;
    const { assert!(MAX_MESSAGE_SIZE >= 16 << 20) };
}

#[tokio::test]
async fn answers_ping_with_pong() {
    let server = EchoServer::start();
    within(5, async {
        let mut ws = connect_plain(&server).await;
        let got = round_trip(&mut ws, Message::Ping(Bytes::from_static(b"hb-1"))).await;
        assert_eq!(got, Message::Pong(Bytes::from_static(b"hb-1")));
    })
    .await;
}

#[tokio::test]
async fn close_handshake_echoes_the_code() {
    let server = EchoServer::start();
    within(5, async {
        let mut ws = connect_plain(&server).await;
        let frame = CloseFrame {
            code: CloseCode::from(4000),
            reason: "bye".into(),
        };
        ws.close(Some(frame)).await.unwrap();
        match ws.next().await {
            Some(Ok(Message::Close(Some(reply)))) => assert_eq!(u16::from(reply.code), 4000),
            other => panic!("expected a close reply, got {other:?}"),
        }
        assert!(ws.next().await.is_none(), "stream ends after the close");
    })
    .await;
}

#[tokio::test]
async fn tls_echo_with_the_test_ca() {
    let pki = TestPki::new(&["localhost", "127.0.0.1"]);
    let server = EchoServer::start_tls(pki.server_config());
    assert!(server.url().starts_with("wss://localhost:"));
    within(5, async {
        let mut ws = connect_tls(&server, &pki).await.unwrap();
        let text = Message::text("over tls");
        assert_eq!(round_trip(&mut ws, text.clone()).await, text);
        ws.close(None).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn tls_with_the_wrong_ca_fails() {
    let pki = TestPki::new(&["localhost"]);
    let wrong = TestPki::new(&["localhost"]);
    let server = EchoServer::start_tls(pki.server_config());
    within(5, async {
        let err = match connect_tls(&server, &wrong).await {
            Ok(_) => panic!("handshake with an untrusted CA succeeded"),
            Err(err) => err,
        };
        let inner = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<rustls::Error>())
            .unwrap_or_else(|| panic!("not a rustls error: {err:?}"));
        assert_eq!(
            *inner,
            rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)
        );
    })
    .await;
}

#[tokio::test]
async fn drop_stops_the_server_and_its_connections() {
    let server = EchoServer::start();
    let addr = server.addr();
    within(5, async {
        let mut ws = connect_plain(&server).await;
        let started = std::time::Instant::now();
        drop(server);
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "drop is bounded"
        );
        // The open connection is torn down…
        match ws.next().await {
            None | Some(Err(_)) => {}
            Some(Ok(msg)) => panic!("unexpected message {msg:?}"),
        }
        // …and nobody listens any more.
        assert!(TcpStream::connect(addr).await.is_err());
    })
    .await;
}

#[tokio::test]
async fn serves_several_connections() {
    let server = EchoServer::start();
    within(5, async {
        let mut a = connect_plain(&server).await;
        let mut b = connect_plain(&server).await;
        assert_eq!(
            round_trip(&mut b, Message::text("b")).await,
            Message::text("b")
        );
        assert_eq!(
            round_trip(&mut a, Message::text("a")).await,
            Message::text("a")
        );
    })
    .await;
    assert_eq!(server.connections_accepted(), 2);
}

#[tokio::test]
async fn kill_drops_every_live_connection_without_a_close_frame() {
    let server = EchoServer::start();
    within(5, async {
        let mut a = connect_plain(&server).await;
        let mut b = connect_plain(&server).await;
        // Both upgraded and echoing before the kill.
        assert_eq!(
            round_trip(&mut a, Message::text("a")).await,
            Message::text("a")
        );
        assert_eq!(
            round_trip(&mut b, Message::text("b")).await,
            Message::text("b")
        );
        assert_eq!(server.kill_connections(), 2);
        for ws in [&mut a, &mut b] {
            match ws.next().await {
                // tungstenite: "connection reset without closing handshake".
                None | Some(Err(_)) => {}
                Some(Ok(msg)) => panic!("expected no close frame, got {msg:?}"),
            }
        }
        // The listener is still open.
        let mut c = connect_plain(&server).await;
        assert_eq!(
            round_trip(&mut c, Message::text("c")).await,
            Message::text("c")
        );
        assert_eq!(server.connections_accepted(), 3);
    })
    .await;
}

#[tokio::test]
async fn close_sends_the_code_to_every_live_connection() {
    let server = EchoServer::start();
    within(5, async {
        let mut a = connect_plain(&server).await;
        let mut b = connect_plain(&server).await;
        assert_eq!(
            round_trip(&mut a, Message::text("a")).await,
            Message::text("a")
        );
        assert_eq!(
            round_trip(&mut b, Message::text("b")).await,
            Message::text("b")
        );
        assert_eq!(server.close_connections(1001, "restart"), 2);
        for ws in [&mut a, &mut b] {
            match ws.next().await {
                Some(Ok(Message::Close(Some(frame)))) => {
                    assert_eq!(u16::from(frame.code), 1001);
                    assert_eq!(frame.reason.as_str(), "restart");
                }
                other => panic!("expected a close frame, got {other:?}"),
            }
            // tungstenite replied; the server ends the connection.
            assert!(matches!(ws.next().await, None | Some(Err(_))));
        }
        let mut c = connect_plain(&server).await;
        assert_eq!(
            round_trip(&mut c, Message::text("c")).await,
            Message::text("c")
        );
    })
    .await;
}

#[tokio::test]
async fn live_connections_counts_open_ones_only() {
    let server = EchoServer::start();
    within(5, async {
        let mut a = connect_plain(&server).await;
        assert_eq!(
            round_trip(&mut a, Message::text("a")).await,
            Message::text("a")
        );
        assert_eq!(server.live_connections(), 1);
        a.close(None).await.unwrap();
        while a.next().await.is_some() {}
        // The server task ends right after the close handshake.
        while server.live_connections() != 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(server.kill_connections(), 0, "nothing left to kill");
        assert_eq!(server.connections_accepted(), 1);
    })
    .await;
}
