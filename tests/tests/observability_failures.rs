//! The dedicated failure counters the alert rules use
//! (`docs/alerts/wsnova.rules.yml`): `wsnova_sequence_gaps_total` counts
//! an order book gap, `wsnova_auth_failures_total{kind}` a refused login,
//! against the Deribit mock with the tokio driver.
//!
//! A process has one global recorder: this file holds a single test.
#![cfg(feature = "net")]

use std::time::Duration;

use tokio::time::timeout;
use wsnova_adapters::deribit::Deribit;
use wsnova_core::session::{Credentials, Event, SessionConfig};
use wsnova_tests::deribit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockConfig, MockDeribit};
use wsnova_tokio::{Builder, Connect as _};

const STEP: Duration = Duration::from_secs(10);
const BOOK: &str = "book.BTC-PERPETUAL.100ms";

/// The value of the sample `name{labels…}` in the Prometheus text, if any.
fn value(body: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    body.lines().find_map(|line| {
        let (series, number) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
        let all = labels
            .iter()
            .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")));
        (metric == name && all)
            .then(|| number.parse().ok())
            .flatten()
    })
}

fn config(url: &str, secret: &str) -> SessionConfig {
    let mut config = SessionConfig::new(url).expect("a valid url");
    config.credentials = Some(Credentials::new(DEFAULT_CLIENT_ID, secret));
    config.request_timeout = Duration::from_secs(5);
    config
}

#[test]
fn gaps_and_auth_failures_have_their_own_counters() {
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("install the Prometheus recorder");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let mock = MockDeribit::start(MockConfig::default());
        let good = Builder::from_config(config(&mock.url(), DEFAULT_CLIENT_SECRET)).name("good");
        let (client, mut events) = timeout(STEP, good.connect(Deribit::new()))
            .await
            .expect("connect in time")
            .expect("connect");
        client.subscribe(&[BOOK]).await.expect("subscribe");
        let gaps = |body: &str| {
            value(
                body,
                "wsnova_sequence_gaps_total",
                &[("connection", "good")],
            )
        };
        assert_eq!(gaps(&metrics.render()), None, "no gap yet");
        assert_eq!(mock.faults().live().book_gap(), 1);
        timeout(STEP, async {
            while !matches!(events.recv().await, Some(Event::Gap { .. }) | None) {}
        })
        .await
        .expect("a gap in time");
        assert_eq!(gaps(&metrics.render()), Some(1.0));
        let refused = |body: &str, kind| {
            value(
                body,
                "wsnova_auth_failures_total",
                &[("connection", "good"), ("kind", kind)],
            )
        };
        assert_eq!(refused(&metrics.render(), "fatal"), None, "a good login");

        let bad = Builder::from_config(config(&mock.url(), "not-the-secret")).name("bad");
        let outcome = timeout(STEP, bad.connect(Deribit::new()))
            .await
            .expect("connect ends in time");
        assert!(outcome.is_err(), "a wrong secret fails connect");
        let body = metrics.render();
        let fatal = value(
            &body,
            "wsnova_auth_failures_total",
            &[("connection", "bad"), ("kind", "fatal")],
        );
        assert_eq!(fatal, Some(1.0), "{body}");
        client.close().await.expect("close");
    });
}
