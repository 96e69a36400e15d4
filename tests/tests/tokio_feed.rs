//! The tokio driver's batched sends (`feed_*` + `flush`) and its writes
//! from the calling task against a server that stops reading: fed messages
//! leave at `flush` in order, and a sender that filled the socket is never
//! left waiting once the server reads again (no heartbeat or incoming byte
//! needed to wake the driver).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_core::session::{Event, HeartbeatConfig, Plain, SessionConfig};
use wsnova_core::wire::Message;
use wsnova_tests::EchoServer;
use wsnova_tests::bad_server::parse_client_frames;
use wsnova_tests::mem_peer::handshake_response;

const STEP: Duration = Duration::from_secs(10);

fn quiet_config(url: &str) -> SessionConfig {
    let mut config = SessionConfig::new(url).unwrap();
    // No pings, and the timers that may still be armed after the upgrade
    // (the reconnect streak's `stable_after`, and the connect deadline the
    // driver's sleep may still hold) far off: nothing but the sends
    // themselves may wake the driver within the tests' bounds.
    config.heartbeat = HeartbeatConfig {
        ping_interval: None,
        ..HeartbeatConfig::default()
    };
    config.stable_after = Duration::from_secs(60);
    config.connect_timeout = Duration::from_secs(60);
    config
}

async fn next_text(events: &mut wsnova_tokio::Events) -> String {
    loop {
        match timeout(STEP, events.next())
            .await
            .expect("an event in time")
        {
            Some(Event::Message(Message::Text(text))) => return text.to_string(),
            Some(Event::Message(other)) => panic!("unexpected {other:?}"),
            Some(_) => continue,
            None => panic!("events ended"),
        }
    }
}

#[tokio::test]
async fn fed_messages_leave_in_order_at_flush_and_with_the_next_send() {
    let server = EchoServer::start();
    let connect = wsnova_tokio::connect(quiet_config(&server.url()), Plain);
    let (client, mut events) = timeout(STEP, connect).await.unwrap().unwrap();
    for i in 0..100 {
        client.feed_text(format!("fed {i}")).await.unwrap();
    }
    client.flush();
    for i in 0..100 {
        assert_eq!(next_text(&mut events).await, format!("fed {i}"));
    }
    // A fed message goes out with the next written one, before it.
    client.feed_text("first").await.unwrap();
    client.send_text("second").await.unwrap();
    assert_eq!(next_text(&mut events).await, "first");
    assert_eq!(next_text(&mut events).await, "second");
}

/// A server that upgrades, then reads nothing until told to, then reads
/// `expect` payload bytes of binary frames and reports them.
fn stalled_server(expect: usize) -> (String, mpsc::Sender<()>, thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/", listener.local_addr().unwrap());
    let (go, wait) = mpsc::channel::<()>();
    let server = thread::spawn(move || {
        let (mut socket, _) = listener.accept().unwrap();
        socket.set_read_timeout(Some(STEP * 3)).unwrap();
        let head = read_head(&mut socket);
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .expect("a key")
            .trim()
            .to_owned();
        socket
            .write_all(handshake_response(&key, "").as_bytes())
            .unwrap();
        wait.recv_timeout(STEP * 3).expect("told to read");
        let mut bytes = Vec::new();
        let mut chunk = vec![0; 1 << 16];
        let mut payload = 0;
        while payload < expect {
            let n = socket.read(&mut chunk).expect("read within the timeout");
            assert!(n > 0, "the client closed early");
            bytes.extend_from_slice(&chunk[..n]);
            let (frames, used) = parse_client_frames(&bytes);
            payload += frames
                .iter()
                .filter(|f| f.opcode == 0x2 && f.masked)
                .map(|f| f.payload.len())
                .sum::<usize>();
            bytes.drain(..used);
        }
        payload
    });
    (url, go, server)
}

fn read_head(socket: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(
            socket.read(&mut byte).unwrap(),
            1,
            "the request head ended early"
        );
        head.push(byte[0]);
    }
    String::from_utf8(head).unwrap()
}

/// 16 MiB (over the 4 MiB mark and any socket buffer) as `count` messages,
/// fed or sent.
async fn sends_finish_once_the_server_reads_again(fed: bool, count: usize) {
    const TOTAL: usize = 16 << 20;
    let message = TOTAL / count;
    let (url, go, server) = stalled_server(TOTAL);
    let connect = wsnova_tokio::connect(quiet_config(&url), Plain);
    let (client, _events) = timeout(STEP, connect).await.unwrap().unwrap();
    // Let the driver task finish its turn and park: a send racing that
    // turn would be written by the driver itself, and the wake-up under
    // test would not be needed. (No event marks "parked"; this only sets
    // the stage, the assertions below wait for events.)
    tokio::time::sleep(Duration::from_millis(100)).await;
    let sender = client.clone();
    let mut sending = tokio::spawn(async move {
        let message = vec![7u8; message];
        for _ in 0..count {
            match fed {
                true => sender.feed_binary(&message).await.unwrap(),
                false => sender.send_binary(&message).await.unwrap(),
            }
        }
        sender.flush();
    });
    // The server reads nothing: the sender must come to wait for room.
    let waited = timeout(Duration::from_millis(300), &mut sending).await;
    assert!(
        waited.is_err(),
        "16 MiB went out to a server that reads nothing"
    );
    go.send(()).unwrap();
    timeout(STEP, sending)
        .await
        .expect("the sender finished once the server read")
        .unwrap();
    let got = tokio::task::spawn_blocking(move || server.join().unwrap());
    let got = timeout(STEP, got).await.expect("server done").unwrap();
    assert_eq!(got, TOTAL);
}

/// One message that fills the socket and leaves the sender over the mark:
/// the write that blocked must hand the rest to the driver, which alone
/// can wait for the socket to take more.
#[tokio::test]
async fn a_send_that_filled_the_socket_finishes_once_the_server_reads() {
    sends_finish_once_the_server_reads_again(false, 1).await;
}

#[tokio::test]
async fn many_sends_that_fill_the_socket_finish_once_the_server_reads() {
    sends_finish_once_the_server_reads_again(false, 64).await;
}

/// Fed messages past the mark are written by the feeder itself, which is
/// about to wait for room: no `flush` comes while it waits.
#[tokio::test]
async fn a_feeder_over_the_high_water_mark_finishes_once_the_server_reads() {
    sends_finish_once_the_server_reads_again(true, 64).await;
}
