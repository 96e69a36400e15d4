//! The test kit's `redis-server`: it answers on its ephemeral port, is
//! unreachable once stopped, and answers again on the same port after a
//! restart (what the cluster's restart and unreachable tests rely on).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use wsnova_tests::redis::RedisServer;

/// Sends `PING` and returns the reply, or `None` when nothing answers.
fn ping(server: &RedisServer) -> Option<String> {
    let mut stream = TcpStream::connect_timeout(&server.addr(), Duration::from_secs(1)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream.write_all(b"PING\r\n").ok()?;
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).ok()?;
    Some(String::from_utf8_lossy(&reply).into_owned())
}

#[test]
fn answers_stops_and_restarts_on_the_same_port() {
    let mut server = RedisServer::start();
    let addr = server.addr();
    assert!(server.url().starts_with("redis://127.0.0.1:"));
    assert_eq!(ping(&server).as_deref(), Some("+PONG\r\n"));
    server.stop();
    assert!(!server.is_running());
    assert_eq!(ping(&server), None, "a stopped server must be unreachable");
    server.restart();
    assert_eq!(server.addr(), addr);
    assert_eq!(ping(&server).as_deref(), Some("+PONG\r\n"));
}
