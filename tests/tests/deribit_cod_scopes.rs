//! Cancel-on-disconnect scopes as Deribit documents them
//! (`private/enable_cancel_on_disconnect`): the default scope is
//! `connection`; on the `account` scope "every newly opened connection
//! will start with active Cancel on Disconnect"; and whatever the scope,
//! "Cancel-on-Disconnect does not affect orders created by other
//! connections". Two clients of one account against the mock (tokio).
#![cfg(feature = "net")]

use std::time::Duration;

use wsnova_adapters::deribit::calls::{
    Buy, Call, DisableCancelOnDisconnect, EnableCancelOnDisconnect, GetCancelOnDisconnect,
    GetOrderState,
};
use wsnova_adapters::deribit::{CancelScope, Deribit, OrderParams};
use wsnova_core::session::{Credentials, SessionConfig};
use wsnova_tests::deribit::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EndReason, MockConfig, MockDeribit,
};
use wsnova_tokio::{Builder, Client, Connect as _, Events};

const STEP: Duration = Duration::from_secs(10);

async fn connect(mock: &MockDeribit) -> (Client, Events) {
    let mut config = SessionConfig::new(&mock.url()).expect("a valid url");
    config.credentials = Some(Credentials::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET));
    config.request_timeout = Duration::from_secs(5);
    let connect = Builder::from_config(config).connect(Deribit::new());
    let connected = tokio::time::timeout(STEP, connect).await;
    connected.expect("connect in time").expect("connect")
}

async fn call<C: Call>(client: &Client, call: &C) -> C::Result {
    let result = client.request(C::METHOD, call).await;
    let result = result.unwrap_or_else(|e| panic!("{}: {e:?}", C::METHOD));
    C::parse(&result).unwrap_or_else(|e| panic!("{}: {e}", C::METHOD))
}

/// Whether cancel-on-disconnect is on in `scope` (`None`: the default).
async fn enabled(client: &Client, scope: Option<CancelScope>) -> bool {
    let state = call(client, &GetCancelOnDisconnect { scope }).await;
    state.enabled.expect("enabled is reported")
}

/// A resting order's id.
async fn rest(client: &Client, label: &str) -> String {
    let order = Buy(OrderParams::limit("BTC-PERPETUAL", 10.0, 1_000.0).label(label));
    call(client, &order).await.order.order_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_scope_is_the_connection_and_other_connections_do_not_inherit_it() {
    let mock = MockDeribit::start(MockConfig::default());
    let (a, _a_events) = connect(&mock).await;
    assert_eq!(call(&a, &EnableCancelOnDisconnect::default()).await, "ok");
    assert!(enabled(&a, None).await);
    assert!(enabled(&a, Some(CancelScope::Connection)).await);
    assert!(!enabled(&a, Some(CancelScope::Account)).await);

    let (b, _b_events) = connect(&mock).await;
    assert!(
        !enabled(&b, None).await,
        "a new connection starts without it"
    );
    let conn_a = mock.stats().connections.keys().next().copied().unwrap();
    assert_eq!(
        mock.stats().connections[&conn_a]
            .cancel_on_disconnect
            .as_deref(),
        Some("connection")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_scope_starts_new_connections_with_it_and_each_cancels_only_its_own_orders() {
    let mock = MockDeribit::start(MockConfig::default());
    let (a, _a_events) = connect(&mock).await;
    let account = EnableCancelOnDisconnect {
        scope: Some(CancelScope::Account),
    };
    assert_eq!(call(&a, &account).await, "ok");
    assert!(enabled(&a, Some(CancelScope::Account)).await);

    // B never enables it: it starts with it, from the account.
    let (b, _b_events) = connect(&mock).await;
    let conn_b = mock.last_connection().expect("b's connection");
    assert!(enabled(&b, None).await, "new connections start with it on");
    let (order_a, order_b) = (rest(&a, "a").await, rest(&b, "b").await);

    assert_eq!(mock.faults().conn(conn_b).drop_now(), 1);
    assert!(
        mock.wait_until(STEP, |s| !s.cancel_on_disconnect.is_empty()),
        "cancel-on-disconnect fired for b"
    );
    let stats = mock.stats();
    let firings = &stats.cancel_on_disconnect;
    assert_eq!(firings.len(), 1, "{firings:?}");
    assert_eq!(
        (firings[0].conn, firings[0].reason),
        (conn_b, EndReason::Fault)
    );
    assert_eq!(firings[0].cancelled, std::slice::from_ref(&order_b));
    let a_state = call(&a, &GetOrderState { order_id: order_a }).await;
    assert_eq!(
        a_state.order_state, "open",
        "a's order is not b's to cancel"
    );

    // Disabled on the account: connections opened later start without it.
    let off = DisableCancelOnDisconnect {
        scope: Some(CancelScope::Account),
    };
    assert_eq!(call(&a, &off).await, "ok");
    assert!(!enabled(&a, Some(CancelScope::Account)).await);
    let (c, _c_events) = connect(&mock).await;
    assert!(!enabled(&c, None).await);
}
