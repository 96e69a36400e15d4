use super::*;
use crate::session::Codec;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng, rngs::StdRng};

/// `sub`/`unsub` with `{"channels": [...]}`, JSON-RPC envelope by default.
struct Topics {
    codec: Codec,
}

impl Adapter for Topics {
    fn codec(&self) -> Codec {
        self.codec
    }
    fn subscribe_request(&self, channels: &[String], _private: bool) -> Option<OutgoingRequest> {
        let params = serde_json::json!({ "channels": channels }).to_string();
        Some(OutgoingRequest::new("sub", params))
    }
    fn unsubscribe_request(&self, channels: &[String], _private: bool) -> Option<OutgoingRequest> {
        let params = serde_json::json!({ "channels": channels }).to_string();
        Some(OutgoingRequest::new("unsub", params))
    }
}

const JSON: Topics = Topics { codec: Codec::Json };

/// [`Topics`], noting the most name bytes it was asked to put in one
/// request of two channels or more.
struct Measured {
    topics: Topics,
    widest: std::cell::Cell<usize>,
}

impl Adapter for Measured {
    fn codec(&self) -> Codec {
        self.topics.codec
    }
    fn subscribe_request(&self, channels: &[String], private: bool) -> Option<OutgoingRequest> {
        if channels.len() > 1 {
            let bytes = channels.iter().map(String::len).sum::<usize>();
            self.widest.set(self.widest.get().max(bytes));
        }
        self.topics.subscribe_request(channels, private)
    }
    fn unsubscribe_request(&self, channels: &[String], private: bool) -> Option<OutgoingRequest> {
        self.topics.unsubscribe_request(channels, private)
    }
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}.{i:04}")).collect()
}

#[test]
fn without_limits_everything_is_one_request() {
    let channels = names("ticker", 500);
    let plan = plan(
        &JSON,
        &SubscribeLimits::UNLIMITED,
        Kind::Subscribe,
        false,
        &channels,
    );
    assert_eq!(plan.batches.len(), 1);
    assert_eq!(plan.batches[0].channels, channels);
    assert!(plan.too_large.is_empty() && plan.unsupported.is_empty());
}

#[test]
fn the_encoded_frame_not_the_params_is_measured() {
    let channels = names("c", 10); // "c.0000": 6 bytes, 9 with quotes and comma
    let request = JSON.subscribe_request(&channels, false).unwrap();
    let whole = encoded_len(&JSON, &request);
    // Room for all the params but not for the envelope around them.
    let limits = SubscribeLimits::UNLIMITED.with_max_frame_bytes(request.params.len() + 5);
    assert!(whole > request.params.len() + 5);
    let plan = plan(&JSON, &limits, Kind::Subscribe, false, &channels);
    assert!(plan.batches.len() > 1, "split: {:?}", plan.batches.len());
    for b in &plan.batches {
        assert!(encoded_len(&JSON, &b.request) <= request.params.len() + 5);
    }
    // The id counted is the longest the session can give.
    let mut max_id = String::new();
    JSON.encode_request(RequestId(u64::MAX), "sub", &request.params, &mut max_id);
    assert_eq!(whole, max_id.len());
}

#[test]
fn a_channel_too_long_alone_is_refused_and_the_rest_still_go() {
    let mut channels = names("a", 3);
    channels.insert(1, "x".repeat(500));
    let limits = SubscribeLimits::UNLIMITED.with_max_frame_bytes(200);
    let plan = plan(&JSON, &limits, Kind::Subscribe, false, &channels);
    assert_eq!(plan.too_large.len(), 1);
    assert_eq!(plan.too_large[0].0, "x".repeat(500));
    assert!(plan.too_large[0].1 > 500);
    let sent: Vec<String> = plan
        .batches
        .iter()
        .flat_map(|b| b.channels.clone())
        .collect();
    assert_eq!(sent, names("a", 3));
}

#[test]
fn channels_per_request_are_capped() {
    let limits = SubscribeLimits::UNLIMITED.with_max_channels_per_request(7);
    let plan = plan(&JSON, &limits, Kind::Unsubscribe, true, &names("c", 20));
    let sizes: Vec<usize> = plan.batches.iter().map(|b| b.channels.len()).collect();
    assert_eq!(sizes, [7, 7, 6]);
    assert!(plan.batches.iter().all(|b| b.request.method == "unsub"));
}

#[test]
fn an_adapter_without_subscriptions_is_reported() {
    let plan = plan(
        &crate::session::Plain,
        &SubscribeLimits::UNLIMITED.with_max_frame_bytes(100),
        Kind::Subscribe,
        false,
        &names("c", 3),
    );
    assert!(plan.batches.is_empty());
    assert_eq!(plan.unsupported, names("c", 3));
}

#[test]
fn pacing_allows_n_per_rolling_second() {
    let t0 = Instant::now();
    let mut q = Batches::default();
    for channels in names("c", 5).chunks(1) {
        q.push(batch(
            Kind::Subscribe,
            false,
            channels,
            OutgoingRequest::new("sub", "{}"),
        ));
    }
    let per = Some(2);
    assert!(q.pop_due(t0, per).is_some());
    let t1 = t0 + Duration::from_millis(300);
    assert!(q.pop_due(t1, per).is_some());
    assert!(q.pop_due(t1, per).is_none(), "two in the last second");
    assert_eq!(q.next_at(t1, per), Some(t0 + WINDOW));
    assert!(q.pop_due(t0 + WINDOW, per).is_some());
    assert_eq!(q.next_at(t0 + WINDOW, per), Some(t1 + WINDOW));
    // The window outlives a lost connection; the queue does not.
    q.clear();
    assert!(q.is_empty());
    assert_eq!(q.next_at(t1 + WINDOW, per), None);
    q.push(batch(
        Kind::Subscribe,
        false,
        &names("d", 1),
        OutgoingRequest::new("sub", "{}"),
    ));
    assert_eq!(q.next_at(t0 + WINDOW, per), Some(t1 + WINDOW));
    assert_eq!(q.next_at(t0, None), Some(t0), "no limit: at once");
    // Only a tail of the same kind and privacy is taken back.
    assert!(q.take_tail(Kind::Subscribe, true).is_none());
    assert!(q.take_tail(Kind::Unsubscribe, false).is_none());
    assert_eq!(
        q.take_tail(Kind::Subscribe, false).unwrap().channels,
        names("d", 1)
    );
    assert!(q.is_empty());
}

/// Up to 299 distinct channel names of 1 to 80 characters, some of which
/// JSON escapes (longer when encoded), made from a seed: proptest's regex
/// strategy takes seconds for this many in a debug build.
fn channel_names() -> impl Strategy<Value = Vec<String>> {
    const ALPHABET: [char; 8] = ['a', 'q', '7', '.', '_', '"', '\\', 'é'];
    (any::<u64>(), 0usize..300).prop_map(|(seed, count)| {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut next = move |n: usize| rng.random_range(0..n);
        let names: std::collections::BTreeSet<String> = (0..count)
            .map(|_| {
                let len = 1 + next(80);
                (0..len).map(|_| ALPHABET[next(8)]).collect()
            })
            .collect();
        names.into_iter().collect()
    })
}

proptest! {
    #[test]
    fn every_batch_fits_and_every_channel_is_placed_once(
        channels in channel_names(),
        max_frame in 40usize..3_000,
        max_channels in proptest::option::of(1usize..50),
        packed in any::<bool>(),
    ) {
        let codec = if packed { Codec::MessagePack } else { Codec::Json };
        let adapter = Measured { topics: Topics { codec }, widest: Default::default() };
        let limits = SubscribeLimits {
            max_frame_bytes: Some(max_frame),
            max_channels_per_request: max_channels,
            max_requests_per_second: None,
        };
        let plan = plan(&adapter, &limits, Kind::Subscribe, false, &channels);
        // No request is tried with more names than their bytes alone allow
        // (the search starts below that bound, not at every channel left).
        prop_assert!(adapter.widest.get() <= max_frame, "{} > {max_frame}", adapter.widest.get());
        let mut placed: Vec<String> = Vec::new();
        for b in &plan.batches {
            prop_assert!(!b.channels.is_empty());
            prop_assert!(encoded_len(&adapter, &b.request) <= max_frame);
            prop_assert!(b.channels.len() <= max_channels.unwrap_or(usize::MAX));
            let rebuilt = adapter.subscribe_request(&b.channels, false);
            prop_assert_eq!(rebuilt.as_ref(), Some(&b.request));
            // Each batch is as full as it can be: with the channel that
            // comes next it would be too large or too many.
            let next = channels.iter().position(|c| c == b.channels.last().unwrap()).unwrap() + 1;
            if next < channels.len() && b.channels.len() < max_channels.unwrap_or(usize::MAX) {
                let mut more = b.channels.clone();
                more.push(channels[next].clone());
                let request = adapter.subscribe_request(&more, false).unwrap();
                prop_assert!(encoded_len(&adapter, &request) > max_frame);
            }
            placed.extend(b.channels.iter().cloned());
        }
        for (c, size) in &plan.too_large {
            prop_assert!(*size > max_frame);
            let alone = adapter.subscribe_request(std::slice::from_ref(c), false).unwrap();
            prop_assert_eq!(encoded_len(&adapter, &alone), *size);
            placed.push(c.clone());
        }
        placed.sort();
        prop_assert_eq!(placed, channels);
    }
}
