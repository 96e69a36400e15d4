//! The echo server binary end to end: a real client (tokio-tungstenite)
//! against `echo_server ws`, and bytes against `echo_server raw`.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use bytes::Bytes;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(mode: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_echo_server"))
            .arg(mode)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start echo_server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("LISTENING ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        Self { child, port }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn connect(port: u16) -> tokio_tungstenite::WebSocketStream<TcpStream> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let url = format!("ws://127.0.0.1:{port}/");
    tokio_tungstenite::client_async(url, tcp).await.unwrap().0
}

fn payload(len: usize) -> Bytes {
    (0..len).map(|i| (i * 13 + 1) as u8).collect()
}

#[tokio::test(flavor = "current_thread")]
async fn websocket_echo() {
    let server = Server::start("ws");
    let mut ws = connect(server.port).await;

    // Sizes around the length encodings, a 16 KiB frame, and a frame far
    // larger than the server's first read buffer.
    for len in [0, 64, 125, 126, 65_535, 65_536, 16 * 1024, 1 << 20] {
        ws.send(Message::Binary(payload(len))).await.unwrap();
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::Binary(payload(len))
        );
    }
    ws.send(Message::Text(Utf8Bytes::from("héllo")))
        .await
        .unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("héllo"));

    // Pipelined: many frames in one flush come back in order.
    for i in 0..1000u32 {
        ws.feed(Message::Binary(Bytes::copy_from_slice(&i.to_be_bytes())))
            .await
            .unwrap();
    }
    ws.flush().await.unwrap();
    for i in 0..1000u32 {
        let echo = ws.next().await.unwrap().unwrap();
        assert_eq!(
            echo,
            Message::Binary(Bytes::copy_from_slice(&i.to_be_bytes()))
        );
    }

    ws.send(Message::Ping(Bytes::from_static(b"ping!")))
        .await
        .unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::Pong(Bytes::from_static(b"ping!"))
    );

    let close = CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    };
    ws.send(Message::Close(Some(close.clone()))).await.unwrap();
    assert_eq!(
        ws.next().await.unwrap().unwrap(),
        Message::Close(Some(close))
    );
    assert!(ws.next().await.is_none());
}

#[tokio::test(flavor = "current_thread")]
async fn frames_split_across_writes() {
    let server = Server::start("ws");
    let mut tcp = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    tcp.set_nodelay(true).unwrap();
    let mut request = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        .to_vec();
    // Frames right behind the request, then one dribbled a byte at a time.
    let mut frames = Vec::new();
    wsnova_bench::frame::encode_frame(&mut frames, 0x82, b"first", Some([1, 2, 3, 4]));
    request.extend_from_slice(&frames);
    tcp.write_all(&request).await.unwrap();
    let mut dribble = Vec::new();
    wsnova_bench::frame::encode_frame(&mut dribble, 0x82, &payload(300), Some([9, 8, 7, 6]));
    for byte in &dribble {
        tcp.write_all(std::slice::from_ref(byte)).await.unwrap();
    }

    let mut expected = Vec::new();
    wsnova_bench::frame::encode_frame(&mut expected, 0x82, b"first", None);
    wsnova_bench::frame::encode_frame(&mut expected, 0x82, &payload(300), None);
    let mut got = Vec::new();
    let mut chunk = [0u8; 4096];
    while !got.ends_with(&expected) {
        let n = tcp.read(&mut chunk).await.unwrap();
        assert_ne!(n, 0, "server closed early; got {got:?}");
        got.extend_from_slice(&chunk[..n]);
    }
    let response = String::from_utf8_lossy(&got[..got.len() - expected.len()]);
    assert!(response.starts_with("HTTP/1.1 101 "), "{response}");
    assert!(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
}

#[tokio::test(flavor = "current_thread")]
async fn many_concurrent_connections() {
    wsnova_bench::sys::raise_nofile_limit().unwrap();
    let server = Server::start("ws");
    let mut all = Vec::new();
    for _ in 0..1100 {
        all.push(connect(server.port).await);
    }
    for (i, ws) in all.iter_mut().enumerate() {
        ws.send(Message::Binary(Bytes::from(i.to_string())))
            .await
            .unwrap();
    }
    for (i, ws) in all.iter_mut().enumerate() {
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::Binary(Bytes::from(i.to_string()))
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn raw_echo() {
    let server = Server::start("raw");
    let mut tcp = TcpStream::connect(("127.0.0.1", server.port))
        .await
        .unwrap();
    let data = payload(300_000);
    let (mut rd, mut wr) = tcp.split();
    let write = async {
        wr.write_all(&data).await.unwrap();
    };
    let read = async {
        let mut back = vec![0; data.len()];
        rd.read_exact(&mut back).await.unwrap();
        back
    };
    let ((), back) = tokio::join!(write, read);
    assert_eq!(back, data);
}
