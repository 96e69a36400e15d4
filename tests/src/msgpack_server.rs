//! A JSON-RPC 2.0 server that speaks MessagePack in binary messages
//! (tokio-tungstenite, rmp-serde): the peer for wsnova's MessagePack codec.
//!
//! Like the [`EchoServer`](crate::EchoServer) it listens on `127.0.0.1:0`
//! from its own thread and runtime, and dropping it stops it (bounded).
//! Every binary message is read as one MessagePack JSON-RPC request and
//! answered in a binary message:
//!
//! | method | params | answer |
//! | --- | --- | --- |
//! | `add` | `[a, b]` (integers) | `a + b` |
//! | `echo` | anything | the params |
//! | `subscribe` | `{"channels": [..]}` | the channels, then one notification per channel: `{"method":"subscription","params":{"channel":c,"data":{"channel":c,"seq":1,"price":101.5}}}` |
//! | `raw` | none | `true`, then `{"greeting":"hi"}` (neither a response nor a notification), then [`RAW_PAYLOAD`]: a binary message that is not MessagePack of a JSON value |
//! | anything else | | error `-32601` `method not found` |
//!
//! Text messages are not answered, only counted ([`MsgPackServer::text_messages`]).
//!
//! ```no_run
//! use wsnova_tests::msgpack_server::MsgPackServer;
//! let server = MsgPackServer::start();
//! println!("connect to {}", server.url());
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tungstenite::Message;

/// How long dropping the server waits for connection tasks to wind down.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The binary message `raw` pushes: MessagePack `bin 8` of three bytes,
/// which has no JSON form.
pub const RAW_PAYLOAD: [u8; 5] = [0xc4, 0x03, 0x01, 0x02, 0x03];

/// A running MessagePack JSON-RPC server; dropping it shuts it down.
#[derive(Debug)]
pub struct MsgPackServer {
    addr: SocketAddr,
    counts: Arc<Counts>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Counts {
    requests: AtomicUsize,
    text: AtomicUsize,
}

impl MsgPackServer {
    /// Starts the server on an ephemeral localhost port.
    ///
    /// # Panics
    ///
    /// If the listener cannot be bound or the thread cannot be spawned.
    pub fn start() -> MsgPackServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener
            .set_nonblocking(true)
            .expect("set listener non-blocking");
        let addr = listener.local_addr().expect("listener address");
        let counts = Arc::new(Counts::default());
        let (shutdown, shutdown_rx) = oneshot::channel();
        let thread_counts = Arc::clone(&counts);
        let thread = std::thread::Builder::new()
            .name(format!("msgpack-server-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("build MessagePack server runtime");
                runtime.block_on(accept_loop(listener, thread_counts, shutdown_rx));
                runtime.shutdown_timeout(SHUTDOWN_GRACE);
            })
            .expect("spawn MessagePack server thread");
        MsgPackServer {
            addr,
            counts,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The URL to connect to: `ws://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("ws://127.0.0.1:{}/", self.addr.port())
    }

    /// How many MessagePack requests (binary messages) the server answered.
    pub fn requests(&self) -> usize {
        self.counts.requests.load(Ordering::SeqCst)
    }

    /// How many text messages the server received (and ignored).
    pub fn text_messages(&self) -> usize {
        self.counts.text.load(Ordering::SeqCst)
    }
}

impl Drop for MsgPackServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            // The runtime shutdown is bounded by SHUTDOWN_GRACE.
            let _ = thread.join();
        }
    }
}

async fn accept_loop(
    listener: std::net::TcpListener,
    counts: Arc<Counts>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = TcpListener::from_std(listener).expect("register listener with tokio");
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                tokio::spawn(serve(stream, Arc::clone(&counts)));
            }
        }
    }
}

/// One connection: answers each binary request with binary messages.
async fn serve(stream: TcpStream, counts: Arc<Counts>) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(message)) = ws.next().await {
        let replies = match message {
            Message::Binary(data) => {
                counts.requests.fetch_add(1, Ordering::SeqCst);
                answer(&data)
            }
            Message::Text(_) => {
                counts.text.fetch_add(1, Ordering::SeqCst);
                continue;
            }
            // tungstenite answers pings and completes the close handshake.
            _ => continue,
        };
        for reply in replies {
            if ws.send(Message::Binary(reply.into())).await.is_err() {
                return;
            }
        }
    }
}

/// The binary messages that answer one request (none for garbage).
fn answer(data: &[u8]) -> Vec<Vec<u8>> {
    let Ok(request) = rmp_serde::from_slice::<Value>(data) else {
        return Vec::new();
    };
    let id = request["id"].clone();
    let params = &request["params"];
    let pack = |value: Value| rmp_serde::to_vec_named(&value).expect("JSON values pack");
    let result = |result: Value| pack(json!({"jsonrpc": "2.0", "id": id, "result": result}));
    match request["method"].as_str().unwrap_or_default() {
        "add" => {
            let sum = params[0].as_i64().unwrap_or(0) + params[1].as_i64().unwrap_or(0);
            vec![result(json!(sum))]
        }
        "echo" => vec![result(params.clone())],
        "subscribe" => {
            let channels = params["channels"].as_array().cloned().unwrap_or_default();
            let mut replies = vec![result(Value::Array(channels.clone()))];
            for channel in channels {
                replies.push(pack(json!({
                    "jsonrpc": "2.0",
                    "method": "subscription",
                    "params": {
                        "channel": channel,
                        "data": {"channel": channel, "seq": 1, "price": 101.5},
                    },
                })));
            }
            replies
        }
        "raw" => vec![
            result(json!(true)),
            pack(json!({"greeting": "hi"})),
            RAW_PAYLOAD.to_vec(),
        ],
        _ => vec![pack(json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": -32601, "message": "method not found"},
        }))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_answers_with_the_sum() {
        let request =
            rmp_serde::to_vec_named(&json!({"id": 4, "method": "add", "params": [2, 3]})).unwrap();
        let replies = answer(&request);
        let reply: Value = rmp_serde::from_slice(&replies[0]).unwrap();
        assert_eq!(reply, json!({"jsonrpc": "2.0", "id": 4, "result": 5}));
    }

    #[test]
    fn the_raw_payload_has_no_json_form() {
        assert!(rmp_serde::from_slice::<Value>(&RAW_PAYLOAD).is_err());
        assert!(answer(b"\xc1").is_empty());
    }
}
