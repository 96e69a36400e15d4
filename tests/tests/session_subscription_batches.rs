//! Subscription batching against the fake exchange in virtual time: for any
//! set of channels (random names and lengths, private and public) and any
//! limits, no (un)subscribe frame exceeds the adapter's limit, private
//! channels go first and apart, batches are paced, a channel too long for
//! any frame is refused once with a clear error, and after every replay each
//! channel is confirmed exactly once before `Ready`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use proptest::prelude::*;
use serde_json::value::RawValue;
use wsnova_core::session::{
    Adapter, AuthContext, AuthToken, Credentials, Event, Inbound, OutgoingRequest, RequestId,
    RpcError, Sequence, SessionState, SubscribeLimits, encode_json_rpc,
};
use wsnova_tests::sim::{Received, Sim, TestRpc};

/// The test adapter with subscribe limits.
struct Limited {
    inner: TestRpc,
    limits: SubscribeLimits,
}

impl Adapter for Limited {
    fn classify<'a>(&self, text: &'a str) -> Inbound<'a> {
        self.inner.classify(text)
    }
    fn is_private(&self, channel: &str) -> bool {
        self.inner.is_private(channel)
    }
    fn subscribe_request(&self, channels: &[String], private: bool) -> Option<OutgoingRequest> {
        self.inner.subscribe_request(channels, private)
    }
    fn unsubscribe_request(&self, channels: &[String], private: bool) -> Option<OutgoingRequest> {
        self.inner.unsubscribe_request(channels, private)
    }
    fn confirmed_channels(&self, requested: &[String], result: &str) -> Vec<String> {
        self.inner.confirmed_channels(requested, result)
    }
    fn auth_request(&self, credentials: &Credentials, cx: &AuthContext) -> Option<OutgoingRequest> {
        self.inner.auth_request(credentials, cx)
    }
    fn refresh_request(&self, token: &AuthToken) -> Option<OutgoingRequest> {
        self.inner.refresh_request(token)
    }
    fn read_auth(&self, result: &str) -> Result<AuthToken, String> {
        self.inner.read_auth(result)
    }
    fn auth_error_is_fatal(&self, error: &RpcError) -> bool {
        self.inner.auth_error_is_fatal(error)
    }
    fn is_token_expired(&self, error: &RpcError) -> bool {
        self.inner.is_token_expired(error)
    }
    fn sequence(&self, channel: &str, data: &RawValue) -> Option<Sequence> {
        self.inner.sequence(channel, data)
    }
    fn subscribe_limits(&self) -> SubscribeLimits {
        self.limits
    }
}

/// The size of the request that subscribes to `channel` alone, with the
/// longest id (what the session measures).
fn alone(adapter: &Limited, channel: &str) -> usize {
    let private = adapter.is_private(channel);
    let request = adapter
        .subscribe_request(&[channel.to_owned()], private)
        .unwrap();
    let mut text = String::new();
    encode_json_rpc(
        RequestId(u64::MAX),
        &request.method,
        &request.params,
        &mut text,
    );
    text.len()
}

fn channels_of(r: &Received) -> Vec<String> {
    r.params["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect()
}

fn sim_with(limits: SubscribeLimits) -> Sim<Limited> {
    let adapter = Limited {
        inner: TestRpc::default(),
        limits,
    };
    Sim::new(adapter, |c| {
        c.credentials = Some(Credentials::new("client", "s3cret"));
        c.request_timeout = Duration::from_secs(30);
    })
}

/// Checks the subscribe requests one connection received, and returns how
/// many there were.
fn check_generation(
    sim: &Sim<Limited>,
    generation: u64,
    limits: &SubscribeLimits,
    expected: &BTreeSet<String>,
) -> Result<usize, TestCaseError> {
    let subscribes: Vec<&Received> = sim
        .server
        .received
        .iter()
        .filter(|r| r.generation == generation && r.method.ends_with("/subscribe"))
        .collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut public_started = false;
    for r in &subscribes {
        let max = limits.max_frame_bytes.unwrap_or(usize::MAX);
        prop_assert!(r.bytes <= max, "a {}-byte frame over {max}", r.bytes);
        let channels = channels_of(r);
        prop_assert!(!channels.is_empty());
        let cap = limits.max_channels_per_request.unwrap_or(usize::MAX);
        prop_assert!(channels.len() <= cap);
        let private = r.method == "private/subscribe";
        prop_assert!(!(private && public_started), "private channels go first");
        public_started |= !private;
        prop_assert!(!private || r.authed, "private after auth");
        for c in channels {
            prop_assert_eq!(private, sim.client.adapter().is_private(&c), "{}", c);
            *seen.entry(c).or_default() += 1;
        }
    }
    prop_assert!(
        seen.values().all(|n| *n == 1),
        "each channel requested once"
    );
    let requested: BTreeSet<String> = seen.into_keys().collect();
    prop_assert_eq!(&requested, expected);
    Ok(subscribes.len())
}

/// Channels `Event::Subscribed` named since `from`, with their counts.
fn subscribed_since(events: &[Event], from: usize) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in &events[from..] {
        if let Event::Subscribed { channels } = e {
            for c in channels {
                *counts.entry(c.clone()).or_insert(0) += 1;
            }
        }
    }
    counts
}

fn channel() -> impl Strategy<Value = String> {
    ("(user|ticker)", "[a-z0-9._-]{1,140}").prop_map(|(kind, rest)| format!("{kind}.{rest}"))
}

fn limits() -> impl Strategy<Value = SubscribeLimits> {
    (
        200usize..3_000,
        proptest::option::of(1usize..40),
        proptest::option::of(1u32..6),
    )
        .prop_map(|(frame, channels, rate)| SubscribeLimits {
            max_frame_bytes: Some(frame),
            max_channels_per_request: channels,
            max_requests_per_second: rate,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn every_replay_fits_and_confirms_each_channel_once(
        channels in proptest::collection::btree_set(channel(), 0..90),
        limits in limits(),
        reconnects in 1usize..4,
    ) {
        let mut sim = sim_with(limits);
        let max = limits.max_frame_bytes.unwrap();
        let too_long: BTreeSet<String> = channels
            .iter()
            .filter(|c| alone(sim.client.adapter(), c) > max)
            .cloned()
            .collect();
        let expected: BTreeSet<String> = channels.difference(&too_long).cloned().collect();
        let names: Vec<&str> = channels.iter().map(String::as_str).collect();
        if !names.is_empty() {
            sim.subscribe(&names);
        }
        sim.connect();
        let limit = Duration::from_secs(600);
        for round in 0..=reconnects {
            let (from, started) = (sim.events.len(), sim.now);
            if round > 0 {
                sim.drop_connection();
            }
            let generation_before = sim.client.generation();
            prop_assert!(sim.run_until(
                |s| s.client.state() == SessionState::Ready
                    && (round == 0 || s.client.generation() > generation_before),
                limit,
            ), "not ready again after reconnect {round}");
            prop_assert!(sim.is_ready_and_consistent());
            let desired: BTreeSet<String> =
                sim.client.desired_subscriptions().map(String::from).collect();
            prop_assert_eq!(&desired, &expected);
            // Every channel confirmed exactly once on this connection.
            let counts = subscribed_since(&sim.events, from);
            prop_assert_eq!(counts.keys().cloned().collect::<BTreeSet<_>>(), expected.clone());
            prop_assert!(counts.values().all(|n| *n == 1));
            let batches = check_generation(&sim, sim.client.generation(), &limits, &expected)?;
            // Paced: `batches` requests at `n` per rolling second take at
            // least ceil(batches / n) - 1 seconds.
            if let Some(n) = limits.max_requests_per_second.filter(|_| batches > 0) {
                let least = Duration::from_secs(((batches - 1) / n as usize) as u64);
                prop_assert!(sim.now - started >= least, "{batches} batches at {n}/s in {:?}", sim.now - started);
            }
        }
        // A channel too long for any frame is refused once, with the sizes.
        let refused: Vec<(&String, &String)> = sim
            .events
            .iter()
            .filter_map(|e| match e {
                Event::SubscriptionFailed { channels, error } => Some((channels, error)),
                _ => None,
            })
            .flat_map(|(cs, e)| cs.iter().map(move |c| (c, e)))
            .collect();
        prop_assert_eq!(refused.len(), too_long.len());
        for (c, error) in refused {
            prop_assert!(too_long.contains(c));
            prop_assert!(error.contains("too long") && error.contains(&max.to_string()), "{}", error);
        }
    }
}

#[test]
fn unsubscribing_many_channels_is_split_too() {
    let limits = SubscribeLimits::UNLIMITED.with_max_frame_bytes(400);
    let mut sim = sim_with(limits);
    let channels: Vec<String> = (0..60).map(|i| format!("ticker.{i:03}.100ms")).collect();
    let names: Vec<&str> = channels.iter().map(String::as_str).collect();
    sim.subscribe(&names);
    sim.connect();
    assert!(sim.run_until(|s| s.is_ready_and_consistent(), Duration::from_secs(5)));
    assert!(sim.server.count("public/subscribe") > 1, "split");
    sim.client.unsubscribe(sim.now, &names).unwrap();
    assert!(sim.run_until(
        |s| s.server.subscriptions(s.client.generation()).is_empty()
            && s.client.confirmed_subscriptions().count() == 0,
        Duration::from_secs(5)
    ));
    let unsubscribes: Vec<&Received> = sim
        .server
        .received
        .iter()
        .filter(|r| r.method == "public/unsubscribe")
        .collect();
    assert!(unsubscribes.len() > 1, "split");
    assert!(unsubscribes.iter().all(|r| r.bytes <= 400));
    assert_eq!(sim.client.confirmed_subscriptions().count(), 0);
}

#[test]
fn a_restore_waits_for_paced_batches_before_ready() {
    // 40 channels, 4 per request, 2 requests a second: 10 batches, ≥ 4 s.
    let limits = SubscribeLimits::UNLIMITED
        .with_max_channels_per_request(4)
        .with_max_requests_per_second(2);
    let mut sim = sim_with(limits);
    let channels: Vec<String> = (0..40).map(|i| format!("ticker.{i:03}.100ms")).collect();
    let names: Vec<&str> = channels.iter().map(String::as_str).collect();
    sim.subscribe(&names);
    sim.connect();
    assert!(sim.run_until(
        |s| s.client.state() == SessionState::Restoring,
        Duration::from_secs(1)
    ));
    let entered = sim.now;
    assert!(sim.run_until(
        |s| s.client.state() == SessionState::Ready,
        Duration::from_secs(30)
    ));
    assert!(
        sim.is_ready_and_consistent(),
        "ready only when all confirmed"
    );
    assert!(
        sim.now - entered >= Duration::from_secs(4),
        "{:?}",
        sim.now - entered
    );
    assert_eq!(sim.server.count("public/subscribe"), 10);
}

#[test]
fn channels_asked_for_one_by_one_join_the_waiting_batch() {
    // One request a second: the first channel goes at once, the other 29
    // (asked for one by one meanwhile) wait together in one request.
    let limits = SubscribeLimits::UNLIMITED.with_max_requests_per_second(1);
    let mut sim = sim_with(limits);
    sim.connect();
    assert!(sim.run_until(
        |s| s.client.state() == SessionState::Ready,
        Duration::from_secs(1)
    ));
    for i in 0..30 {
        sim.subscribe(&[&format!("ticker.{i:03}.100ms")]);
    }
    assert!(sim.run_until(
        |s| s.client.confirmed_subscriptions().count() == 30,
        Duration::from_secs(5)
    ));
    let sizes: Vec<usize> = sim
        .server
        .received
        .iter()
        .filter(|r| r.method == "public/subscribe")
        .map(|r| channels_of(r).len())
        .collect();
    assert_eq!(sizes, [1, 29]);
}
