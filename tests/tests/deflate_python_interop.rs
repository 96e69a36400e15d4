//! permessage-deflate against an independent implementation: Python's
//! `websockets` (tests/fixtures/python_deflate_server.py), which negotiates
//! it by default and asks for 12-bit windows, through both drivers. The
//! server reports what it negotiated and how many compressed frames it got.

use std::time::Duration;

use futures_util::StreamExt;
use tokio::time::timeout;
use wsnova_core::session::{Event, Plain};
use wsnova_core::wire::Message;
use wsnova_tests::python::PythonServer;

const STEP: Duration = Duration::from_secs(20);
const SCRIPT: &str = "python_deflate_server.py";

/// A JSON ticker padded past the 1 KiB compression threshold.
fn ticker(i: usize) -> String {
    let levels: Vec<String> = (0..80)
        .map(|l| format!("[{}.5,{}]", 65_000 + i + l, 100 * l + i))
        .collect();
    let ticker = format!(
        r#"{{"channel":"ticker.BTC-PERPETUAL","seq":{i},"bids":[{}]}}"#,
        levels.join(",")
    );
    assert!(ticker.len() >= 1024, "sent compressed by default");
    ticker
}

/// What each driver's test checks in the server's `!stats` answer.
fn check_stats(stats: &str, compressed_sent: u64) {
    let stats: serde_json::Value = serde_json::from_str(stats).unwrap();
    let ext = &stats[0];
    assert_eq!(ext["name"], "permessage-deflate", "{stats}");
    // websockets asks for 12 bits: our compressor honoured it or the
    // server's inflater would have failed.
    assert_eq!(ext["remote_max_window_bits"], 12, "{stats}");
    assert!(
        ext["compressed_in"].as_u64().unwrap() >= compressed_sent,
        "{stats}"
    );
}

fn expected_book(text: &str, at_least: usize) {
    assert!(text.len() >= at_least, "{} bytes", text.len());
    let book: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(book["channel"], "book.BTC-PERPETUAL.raw");
}

mod tokio_driver {
    use super::*;
    use wsnova_tokio::Connect as _;
    use wsnova_tokio::{Builder, Events};

    async fn next_text(events: &mut Events) -> String {
        loop {
            let event = timeout(STEP, events.next())
                .await
                .expect("in time")
                .expect("open");
            match event {
                Event::Message(Message::Text(t)) => return t.as_str().to_owned(),
                Event::Connected | Event::Ready => continue,
                other => panic!("expected a text message, got {other:?}"),
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn compressed_messages_round_trip_through_python_websockets() {
        let server = tokio::task::spawn_blocking(|| PythonServer::start(SCRIPT))
            .await
            .unwrap();
        let builder = Builder::new(&server.url()).unwrap();
        let (client, mut events) = timeout(STEP, builder.connect(Plain))
            .await
            .unwrap()
            .unwrap();
        for i in 0..50 {
            client.send_text(ticker(i)).await.unwrap();
            client.send_text(format!("small {i}")).await.unwrap();
        }
        for i in 0..50 {
            assert_eq!(next_text(&mut events).await, ticker(i));
            assert_eq!(next_text(&mut events).await, format!("small {i}"));
        }
        client.send_text("!book 300000").await.unwrap();
        expected_book(&next_text(&mut events).await, 300_000);
        client.send_text("!stats").await.unwrap();
        check_stats(&next_text(&mut events).await, 50);
        timeout(STEP, client.close()).await.unwrap().unwrap();
    }
}

mod mio_driver {
    use super::*;
    use wsnova_mio::ConnectOn as _;
    use wsnova_mio::{Builder, EventLoop, Events};

    fn next_text(events: &Events) -> String {
        loop {
            match events.recv_timeout(STEP).expect("an event in time") {
                Event::Message(Message::Text(t)) => return t.as_str().to_owned(),
                Event::Connected | Event::Ready => continue,
                other => panic!("expected a text message, got {other:?}"),
            }
        }
    }

    #[test]
    fn compressed_messages_round_trip_through_python_websockets() {
        let server = PythonServer::start(SCRIPT);
        let event_loop = EventLoop::new().unwrap();
        let builder = Builder::new(&server.url()).unwrap();
        let (handle, events) = builder.connect(&event_loop, Plain).unwrap();
        for i in 0..50 {
            handle.send_text(ticker(i)).unwrap();
            handle.send_text(format!("small {i}")).unwrap();
        }
        for i in 0..50 {
            assert_eq!(next_text(&events), ticker(i));
            assert_eq!(next_text(&events), format!("small {i}"));
        }
        handle.send_text("!book 300000").unwrap();
        expected_book(&next_text(&events), 300_000);
        handle.send_text("!stats").unwrap();
        check_stats(&next_text(&events), 50);
        handle.close().unwrap();
    }
}
