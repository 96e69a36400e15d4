//! The first use the project promises: the bare core embedded in a plain
//! `std::net` loop (`core/examples/std_loop.rs`), against a real echo server.

#[allow(dead_code)] // the example's `main` is not used here
#[path = "../../core/examples/std_loop.rs"]
mod std_loop;

use wsnova_tests::EchoServer;

#[test]
fn the_std_loop_example_echoes_and_closes_cleanly() {
    let server = EchoServer::start();
    let sent = ["hello", "from", "a plain loop", "ünïcödé"];
    let echoes = std_loop::run(&server.url(), &sent).expect("a clean run");
    assert_eq!(echoes, sent);
}

#[test]
fn the_std_loop_example_fails_fast_when_nothing_listens() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port(); // bound, then freed: nothing listens there now
    let err = std_loop::run(&format!("ws://127.0.0.1:{port}/"), &["x"]).unwrap_err();
    assert!(err.to_string().contains("ConnectFailed"), "{err}");
}
