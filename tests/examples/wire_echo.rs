//! Connects wsnova's wire to a WebSocket echo server over a real socket and
//! prints the exchange.
//!
//! ```text
//! cargo run -p wsnova-tests --example wire_echo                  # embedded echo server
//! cargo run -p wsnova-tests --example wire_echo -- ws://host:port/path
//! ```

use std::net::ToSocketAddrs;
use std::time::{Duration, Instant};

use wsnova_core::wire::{CloseCode, WireConfig, WireEvent};
use wsnova_tests::EchoServer;
use wsnova_tests::blocking::BlockingWire;

const STEP: Duration = Duration::from_secs(5);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (_server, url) = match std::env::args().nth(1) {
        Some(url) => (None, url),
        None => {
            let server = EchoServer::start();
            let url = server.url();
            println!("started an echo server (tokio-tungstenite) on {url}");
            (Some(server), url)
        }
    };
    let config = WireConfig::new(&url)?;
    let endpoint = config.endpoint().clone();
    let addr = (endpoint.host(), endpoint.port())
        .to_socket_addrs()?
        .next()
        .ok_or("the host did not resolve")?;
    let mut ws = BlockingWire::connect(config, addr, 2026)?;
    println!("→ GET {} (upgrade request)", endpoint.path_and_query());
    print_event(&ws.next_event(STEP).map_err(|e| format!("{e:?}"))?);

    for text in ["hello from wsnova", "a second message, same write"] {
        ws.wire.send_text(text)?;
        println!("→ text {text:?}");
    }
    ws.wire.send_binary(&[0xde, 0xad, 0xbe, 0xef])?;
    println!("→ binary 4 bytes");
    let sent_ping = Instant::now();
    ws.wire.ping(b"rtt")?;
    println!("→ ping");
    for _ in 0..4 {
        let event = ws.next_event(STEP).map_err(|e| format!("{e:?}"))?;
        if let WireEvent::Pong(_) = event {
            println!("← pong after {:?}", sent_ping.elapsed());
        } else {
            print_event(&event);
        }
    }
    ws.wire.close(CloseCode::NORMAL, "done")?;
    println!("→ close 1000 \"done\"");
    print_event(&ws.next_message_event(STEP).map_err(|e| format!("{e:?}"))?);
    Ok(())
}

fn print_event(event: &WireEvent) {
    match event {
        WireEvent::Open { subprotocol } => {
            println!("← 101 Switching Protocols (subprotocol {subprotocol:?})")
        }
        WireEvent::Message(m) if m.is_text() => {
            println!("← text {:?}", String::from_utf8_lossy(m.as_bytes()))
        }
        WireEvent::Message(m) => println!("← binary {:02x?}", m.as_bytes()),
        WireEvent::Closed { frame, by_peer } => println!(
            "← close {} {:?} (started by {})",
            u16::from(frame.code),
            frame.reason.as_str(),
            if *by_peer { "the server" } else { "us" }
        ),
        other => println!("← {other:?}"),
    }
}
