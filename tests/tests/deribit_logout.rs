//! `private/logout` is terminal (Deribit API v2: "the WebSocket connection
//! is closed immediately after the request is processed"; "Graceful logout:
//! orders are NOT cancelled, even if COD is enabled"). Through both drivers
//! against the mock: the call succeeds with `()`, the session ends with
//! `Closed { reason: User }` and never reconnects, and a resting order
//! survives cancel-on-disconnect.
#![cfg(feature = "net")]

use std::time::Duration;

use wsnova_adapters::deribit::calls::{Buy, Call, GetTime, Logout};
use wsnova_adapters::deribit::{CancelScope, Deribit, OrderParams};
use wsnova_core::session::{
    CloseReason, Credentials, Event, RequestError, SessionConfig, SessionState,
};
use wsnova_tests::deribit::{
    DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, EndReason, MockConfig, MockDeribit,
};

/// Bound of every single wait.
const STEP: Duration = Duration::from_secs(10);

fn config(mock: &MockDeribit) -> SessionConfig {
    let mut config = SessionConfig::new(&mock.url()).expect("a valid url");
    config.credentials = Some(Credentials::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET));
    config.request_timeout = Duration::from_secs(5);
    config.close_timeout = Duration::from_secs(5);
    config.backoff.base = Duration::from_millis(10);
    config.backoff.max_delay = Duration::from_millis(50);
    config
}

fn adapter() -> Deribit {
    Deribit::new().with_cancel_on_disconnect(CancelScope::Connection)
}

/// A limit order far below the market: it rests.
fn resting() -> Buy {
    Buy(OrderParams::limit("BTC-PERPETUAL", 10.0, 1_000.0).label("stays"))
}

/// What the mock must show after a logout: one connection, ended by the
/// logout; no cancel-on-disconnect; the resting order still open.
fn assert_logged_out(mock: &MockDeribit, order_id: &str) {
    assert!(
        mock.wait_until(STEP, |s| s.connections.values().all(|c| c.ended.is_some())),
        "the mock closed the connection"
    );
    let stats = mock.stats();
    assert_eq!(stats.connections_accepted, 1, "no reconnect");
    let only = stats.connections.values().next().expect("one connection");
    assert_eq!(only.ended, Some(EndReason::Logout));
    assert!(
        stats.cancel_on_disconnect.is_empty(),
        "{:?}",
        stats.cancel_on_disconnect
    );
    let order = stats.orders.iter().find(|o| o.order_id == order_id);
    assert_eq!(order.map(|o| o.state.as_str()), Some("open"));
}

fn assert_terminal_story(seen: &[Event]) {
    assert!(
        !seen.iter().any(|e| matches!(e, Event::Reconnecting { .. })),
        "no reconnect: {seen:?}"
    );
    assert!(
        !seen.iter().any(|e| matches!(
            e,
            Event::Disconnected {
                reconnect_in: Some(_),
                ..
            }
        )),
        "no loss to recover from: {seen:?}"
    );
    assert_eq!(
        seen.last(),
        Some(&Event::Closed {
            reason: CloseReason::User
        }),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokio_logout_ends_the_session_without_a_reconnect_and_keeps_orders() {
    use futures_util::StreamExt;
    use wsnova_tokio::{Builder, Connect as _};

    let mock = MockDeribit::start(MockConfig::default());
    let connect = Builder::from_config(config(&mock)).connect(adapter());
    let (client, mut events) = tokio::time::timeout(STEP, connect)
        .await
        .expect("connect in time")
        .expect("connect");
    let placed = client
        .request(Buy::METHOD, &resting())
        .await
        .expect("placed");
    let order_id = Buy::parse(&placed).expect("an order").order.order_id;

    let result = tokio::time::timeout(STEP, client.request(Logout::METHOD, &Logout::default()))
        .await
        .expect("the logout ends in time")
        .expect("the logout succeeds");
    Logout::parse(&result).expect("logout's result is ()");

    // The stream ends after `Closed`: nothing can follow, no reconnect.
    let mut seen = Vec::new();
    while let Some(event) = tokio::time::timeout(STEP, events.next())
        .await
        .expect("the events end in time")
    {
        seen.push(event);
    }
    assert_terminal_story(&seen);
    assert_eq!(client.status().state, SessionState::Closed);
    let after = client.request(GetTime::METHOD, &GetTime {}).await;
    assert_eq!(after.unwrap_err(), RequestError::Closed);
    assert_logged_out(&mock, &order_id);
}

#[test]
fn mio_logout_ends_the_session_without_a_reconnect_and_keeps_orders() {
    use wsnova_mio::EventLoop;

    let mock = MockDeribit::start(MockConfig::default());
    let event_loop = EventLoop::new().expect("an event loop");
    let (handle, events) = event_loop
        .connect(config(&mock), adapter())
        .expect("connect");
    let placed = handle.request(Buy::METHOD, &resting()).expect("placed");
    let order_id = Buy::parse(&placed).expect("an order").order.order_id;

    let result = handle
        .request(Logout::METHOD, &Logout::default())
        .expect("the logout succeeds");
    Logout::parse(&result).expect("logout's result is ()");

    let mut seen = Vec::new();
    loop {
        let event = events.recv_timeout(STEP).expect("events until Closed");
        let closed = matches!(event, Event::Closed { .. });
        seen.push(event);
        if closed {
            break;
        }
    }
    assert_terminal_story(&seen);
    let after = handle.request(GetTime::METHOD, &GetTime {});
    assert_eq!(after.unwrap_err(), RequestError::Closed);
    assert_logged_out(&mock, &order_id);
}
