//! Both drivers read the proxy environment variables of their process when
//! a connection starts. The tests never change their own environment: each
//! case runs this test binary again as a child with the variables set,
//! running only `child_connects_as_told` (ignored in a normal run: its
//! parent runs it), which connects with both drivers and checks what the
//! parent expects.
//!
//! tinyproxy requires credentials here, so a proxy given without them
//! fails with `AuthenticationRequired`: proof that the environment's proxy
//! was used; `NO_PROXY` and `no_proxy_env()` connect directly.

use std::process::Command;
use std::time::Duration;

use wsnova_core::driver::{Builder, ConnectError};
use wsnova_core::session::{DisconnectReason, Plain};
use wsnova_core::wire::{ProxyError, WireError};
use wsnova_tests::EchoServer;
use wsnova_tests::proxies::Tinyproxy;

const CREDS: (&str, &str) = ("alice", "s3cret.pw");

/// Runs the child with `vars`; it connects to `target` and expects `expect`
/// (`ok`, `auth-required`), ignoring the environment when `ignore_env`.
fn child(vars: &[(&str, &str)], target: &str, expect: &str, ignore_env: bool) {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "child_connects_as_told",
            "--exact",
            "--ignored",
            "--nocapture",
        ])
        .env_remove("HTTP_PROXY")
        .env_remove("http_proxy")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .env_remove("all_proxy")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .env("WSNOVA_CHILD_TARGET", target)
        .env("WSNOVA_CHILD_EXPECT", expect)
        .env(
            "WSNOVA_CHILD_IGNORE_ENV",
            if ignore_env { "1" } else { "0" },
        );
    for (name, value) in vars {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "child with {vars:?}: {said}");
    assert!(said.contains("1 passed"), "the child ran: {said}");
}

#[test]
fn drivers_use_the_environment_proxy_and_honour_no_proxy() {
    let echo = EchoServer::start();
    let proxy = Tinyproxy::start(Some(CREDS));
    let with_creds = proxy.url();
    let without = proxy.url_with(None);
    let target = echo.url(); // ws://127.0.0.1:…/
    child(&[("http_proxy", &with_creds)], &target, "ok", false);
    child(&[("HTTP_PROXY", &without)], &target, "auth-required", false);
    child(&[("ALL_PROXY", &without)], &target, "auth-required", false);
    child(
        &[
            ("ALL_PROXY", &without),
            ("NO_PROXY", "localhost,127.0.0.0/8"),
        ],
        &target,
        "ok",
        false,
    );
    child(&[("ALL_PROXY", &without)], &target, "ok", true);
    // ws:// reads HTTP_PROXY (and ALL_PROXY), never HTTPS_PROXY.
    child(&[("https_proxy", &without)], &target, "ok", false);
}

#[test]
#[ignore = "run by drivers_use_the_environment_proxy_and_honour_no_proxy in a child process"]
fn child_connects_as_told() {
    let target = std::env::var("WSNOVA_CHILD_TARGET").unwrap();
    let expect = std::env::var("WSNOVA_CHILD_EXPECT").unwrap();
    let ignore_env = std::env::var("WSNOVA_CHILD_IGNORE_ENV").unwrap() == "1";
    let builder = || {
        let builder = Builder::new(&target).unwrap();
        if ignore_env {
            builder.no_proxy_env()
        } else {
            builder
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tokio_result = runtime.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(10),
            wsnova_tokio::connect(builder(), Plain),
        )
        .await
        .unwrap()
        .map(|(client, _events)| client.status())
    });
    let event_loop = wsnova_mio::EventLoop::new().unwrap();
    let mio_result = event_loop
        .connect(builder(), Plain)
        .map(|(handle, _events)| handle.status());
    for result in [tokio_result.map(drop), mio_result.map(drop)] {
        match (expect.as_str(), result) {
            ("ok", Ok(())) => {}
            (
                "auth-required",
                Err(ConnectError::Failed(DisconnectReason::Wire(WireError::Proxy(
                    ProxyError::AuthenticationRequired,
                )))),
            ) => {}
            (expect, Err(err)) => panic!("expected {expect}, got {err}"),
            (expect, Ok(())) => panic!("expected {expect}, got a connection"),
        }
    }
}
