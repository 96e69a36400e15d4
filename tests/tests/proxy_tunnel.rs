//! Both drivers reach the echo server through real proxies — tinyproxy
//! (HTTP CONNECT) and microsocks (SOCKS5) — over `ws://` and `wss://` (TLS
//! inside the tunnel, the certificate checked against `localhost`, the
//! real host), with and without credentials. The proxy resolves
//! `localhost` itself.

use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_core::driver::Builder;
use wsnova_core::session::{Event, Plain};
use wsnova_core::wire::Message;
use wsnova_tests::proxies::{Microsocks, Tinyproxy};
use wsnova_tests::{EchoServer, TestPki};

const STEP: Duration = Duration::from_secs(10);
const CREDS: (&str, &str) = ("alice", "s3cret.pw");

struct Servers {
    pki: TestPki,
    plain: EchoServer,
    tls: EchoServer,
}

impl Servers {
    fn start() -> Servers {
        let pki = TestPki::new(&["localhost"]);
        let tls = EchoServer::start_tls(pki.server_config());
        Servers {
            pki,
            plain: EchoServer::start(),
            tls,
        }
    }

    /// `ws://localhost:…` or `wss://localhost:…` through `proxy`, no environment.
    fn builder(&self, secure: bool, proxy: &str) -> Builder {
        let builder = if secure {
            Builder::new(&format!("wss://localhost:{}/", self.tls.addr().port()))
                .unwrap()
                .root_certificates(self.pki.root_store())
        } else {
            Builder::new(&format!("ws://localhost:{}/", self.plain.addr().port())).unwrap()
        };
        builder.proxy(proxy).unwrap()
    }
}

async fn echo_tokio(builder: Builder, what: &str) {
    let (client, mut events) = timeout(STEP, wsnova_tokio::connect(builder, Plain))
        .await
        .expect("connect in time")
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    client.send_text(what).await.unwrap();
    loop {
        match timeout(STEP, events.next()).await.unwrap() {
            Some(Event::Message(m)) => break assert_eq!(m, Message::text(what)),
            Some(Event::Connected | Event::Ready) => {}
            other => panic!("{what}: unexpected {other:?}"),
        }
    }
    client.close().await.unwrap();
}

fn echo_mio(builder: Builder, what: &str) {
    let event_loop = wsnova_mio::EventLoop::new().unwrap();
    let (handle, events) = event_loop
        .connect(builder, Plain)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    handle.send_text(what).unwrap();
    loop {
        match events.recv_timeout(STEP) {
            Ok(Event::Message(m)) => break assert_eq!(m, Message::text(what)),
            Ok(Event::Connected | Event::Ready) => {}
            other => panic!("{what}: unexpected {other:?}"),
        }
    }
    handle.close().unwrap();
    while !matches!(
        events.recv_timeout(STEP),
        Err(RecvTimeoutError::Disconnected)
    ) {}
}

#[tokio::test]
async fn tokio_echoes_through_http_connect_and_socks5_plain_and_tls() {
    let servers = Servers::start();
    let http_open = Tinyproxy::start(None);
    let http_auth = Tinyproxy::start(Some(CREDS));
    let socks_open = Microsocks::start(None);
    let socks_auth = Microsocks::start(Some(CREDS));
    for secure in [false, true] {
        for url in [
            http_open.url(),
            http_auth.url(),
            socks_open.url(),
            socks_auth.url(),
        ] {
            let what = format!(
                "secure={secure} via {}",
                url.split('@').next_back().unwrap()
            );
            echo_tokio(servers.builder(secure, &url), &what).await;
        }
    }
}

#[test]
fn mio_echoes_through_http_connect_and_socks5_plain_and_tls() {
    let servers = Servers::start();
    let http_open = Tinyproxy::start(None);
    let http_auth = Tinyproxy::start(Some(CREDS));
    let socks_open = Microsocks::start(None);
    let socks_auth = Microsocks::start(Some(CREDS));
    for secure in [false, true] {
        for url in [
            http_open.url(),
            http_auth.url(),
            socks_open.url(),
            socks_auth.url(),
        ] {
            let what = format!(
                "secure={secure} via {}",
                url.split('@').next_back().unwrap()
            );
            echo_mio(servers.builder(secure, &url), &what);
        }
    }
}

#[test]
fn the_proxy_password_stays_out_of_debug_output() {
    let servers = Servers::start();
    let builder = servers.builder(true, "http://alice:hunter2@127.0.0.1:3128");
    let shown = format!("{builder:?}");
    assert!(shown.contains("alice:<redacted>@127.0.0.1:3128"), "{shown}");
    assert!(!shown.contains("hunter2"), "{shown}");
}
