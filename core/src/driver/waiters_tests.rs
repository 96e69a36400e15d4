//! Tests of [`Waiters`](super::Waiters).
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use super::*;
use crate::session::{CloseReason, DisconnectReason, Initiator, RequestError};

struct Std;
struct StdReply<T>(SyncSender<T>);
impl<T: Send> Reply<T> for StdReply<T> {
    fn send(self, value: T) {
        let _ = self.0.send(value);
    }
}
impl ReplyChannel for Std {
    type Sender<T: Send + 'static> = StdReply<T>;
}

fn channel<T>() -> (StdReply<T>, Receiver<T>) {
    let (tx, rx) = sync_channel(1);
    (StdReply(tx), rx)
}

fn lost() -> Event {
    Event::Disconnected {
        reason: DisconnectReason::PongTimeout,
        initiator: Initiator::Library,
        reconnect_in: None,
    }
}

#[test]
fn nobody_waiting_costs_a_pointer_not_four_tables() {
    let mut waiters = Waiters::<Std>::new(false);
    assert!(
        size_of::<Waiters<Std>>() <= 32,
        "{}",
        size_of::<Waiters<Std>>()
    );
    assert!(waiters.route(Event::Ready).is_some());
    assert!(waiters.route(lost()).is_some());
    assert!(waiters.callers.is_none(), "events alone make no tables");
    let (tx, _rx) = channel();
    waiters.wait_pong(tx);
    assert!(waiters.callers.is_some());
}

#[test]
fn a_request_outcome_goes_to_its_caller_only() {
    let mut waiters = Waiters::<Std>::new(false);
    let (tx, rx) = channel();
    waiters.wait_response(RequestId(7), tx);
    let failed = |id| Event::RequestFailed {
        id: RequestId(id),
        error: RequestError::Timeout,
    };
    assert_eq!(
        waiters.route(failed(8)),
        Some(failed(8)),
        "not its caller's"
    );
    assert_eq!(waiters.route(failed(7)), None);
    assert_eq!(rx.recv().unwrap(), Err(RequestError::Timeout));
}

#[test]
fn pings_are_answered_in_order_and_fail_on_a_loss() {
    let mut waiters = Waiters::<Std>::new(false);
    let ((a, rx_a), (b, rx_b)) = (channel(), channel());
    waiters.wait_pong(a);
    waiters.wait_pong(b);
    let rtt = Duration::from_millis(3);
    assert!(waiters.route(Event::Pong { rtt }).is_some());
    assert_eq!(rx_a.recv().unwrap(), rtt);
    waiters.route(lost());
    assert!(rx_b.recv().is_err(), "the pong cannot come any more");
}

#[test]
fn the_first_loss_ends_connect_only_when_failing_fast() {
    for fail_fast in [false, true] {
        let mut waiters = Waiters::<Std>::new(fail_fast);
        let (tx, rx) = channel();
        waiters.wait_ready(tx);
        waiters.route(lost());
        match rx.try_recv() {
            Ok(Err(ConnectFailure::Disconnected(_))) => assert!(fail_fast),
            Err(_) => assert!(!fail_fast),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn the_first_ready_answers_the_connect_waiter_once() {
    let mut waiters = Waiters::<Std>::new(true);
    let (tx, rx) = channel();
    waiters.wait_ready(tx);
    assert!(rx.try_recv().is_err(), "not before Ready");
    assert!(waiters.route(Event::Ready).is_some(), "consumers see it");
    assert_eq!(rx.try_recv().unwrap(), Ok(()));
    // A later loss changes nothing for that caller.
    waiters.route(lost());
    assert!(rx.try_recv().is_err());
}

#[test]
fn a_retried_loss_does_not_end_connect_even_when_failing_fast() {
    // The core retries a failed first attempt on the next failover endpoint.
    let mut waiters = Waiters::<Std>::new(true);
    let (tx, rx) = channel();
    waiters.wait_ready(tx);
    waiters.route(Event::Disconnected {
        reason: DisconnectReason::ConnectTimeout,
        initiator: Initiator::Remote,
        reconnect_in: Some(Duration::from_millis(10)),
    });
    assert!(rx.try_recv().is_err(), "connect still waits");
    waiters.route(lost());
    assert!(matches!(
        rx.try_recv(),
        Ok(Err(ConnectFailure::Disconnected(_)))
    ));
}

#[test]
fn a_subscribe_caller_waits_for_all_its_channels_or_the_first_refusal() {
    let mut waiters = Waiters::<Std>::new(false);
    let ((both, rx_both), (refused, rx_refused)) = (channel(), channel());
    waiters.wait_subscribed(vec!["a".into(), "b".into()], both);
    waiters.wait_subscribed(vec!["c".into()], refused);
    let subscribed = |c: &[&str]| Event::Subscribed {
        channels: c.iter().map(|c| c.to_string()).collect(),
    };
    assert!(
        waiters.route(subscribed(&["a"])).is_some(),
        "consumers see it"
    );
    assert!(rx_both.try_recv().is_err(), "b is not confirmed yet");
    waiters.route(Event::SubscriptionFailed {
        channels: vec!["c".into(), "x".into()],
        error: "unknown channel".into(),
    });
    assert_eq!(
        rx_refused.try_recv().unwrap(),
        Err(SubscribeError::Refused {
            channels: vec!["c".into()],
            error: "unknown channel".into()
        })
    );
    waiters.route(subscribed(&["b", "z"]));
    assert_eq!(rx_both.try_recv().unwrap(), Ok(()));
    let (late, rx_late) = channel();
    waiters.wait_subscribed(vec!["d".into()], late);
    waiters.route(Event::Closed {
        reason: CloseReason::User,
    });
    assert_eq!(rx_late.try_recv().unwrap(), Err(SubscribeError::Closed));
}

#[test]
fn a_subscribe_caller_waits_only_for_the_channels_not_confirmed_yet() {
    let mut waiters = Waiters::<Std>::new(false);
    let (reply, rx) = channel();
    waiters.wait_unconfirmed(&["a", "b"], ["a"], reply);
    let subscribed = |c: &str| Event::Subscribed {
        channels: vec![c.to_owned()],
    };
    waiters.route(subscribed("a"));
    assert!(rx.try_recv().is_err(), "b is not confirmed yet");
    waiters.route(subscribed("b"));
    assert_eq!(rx.try_recv().unwrap(), Ok(()));
    // All confirmed already: the answer comes at once.
    let (reply, rx) = channel();
    waiters.wait_unconfirmed(&["a"], ["a", "b"], reply);
    assert_eq!(rx.try_recv().unwrap(), Ok(()));
}

#[test]
fn close_waiters_return_when_released_or_at_once_after_closed() {
    let mut waiters = Waiters::<Std>::new(false);
    let ((early, rx_early), (late, rx_late)) = (channel(), channel());
    waiters.wait_close(early);
    assert!(!waiters.is_closed());
    waiters.route(Event::Closed {
        reason: CloseReason::User,
    });
    assert!(waiters.is_closed());
    assert!(
        rx_early.try_recv().is_err(),
        "not before the consumers know"
    );
    waiters.release_close_waiters();
    assert!(rx_early.try_recv().is_ok());
    waiters.wait_close(late);
    assert!(rx_late.try_recv().is_ok());
}

#[test]
fn debug_counts_the_callers_waiting() {
    let mut waiters = Waiters::<Std>::new(false);
    let (reply, _rx) = channel();
    waiters.wait_pong(reply);
    assert_eq!(
        format!("{waiters:?}"),
        "Waiters { requests: 0, subscriptions: 0, pings: 1, first_ready: false, close: 0, closed: false }"
    );
}
