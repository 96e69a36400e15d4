//! The hostile-server kit against both drivers. Each scenario runs the
//! client in a child process (see `wsnova_tests::hostile::child`) and checks
//! the error it surfaced, the reconnect timing, and its peak RSS.
//!
//! `WSNOVA_FLOOD_SECS` sets the ping flood's length (default 6 s; the
//! issue's figure is 20 s).

use std::time::{Duration, Instant};

use wsnova_core::driver::Builder;
use wsnova_core::session::{Adapter, Event, Plain, SessionConfig};
use wsnova_tests::hostile::child::{self, ChildSpec, Report};
use wsnova_tests::hostile::{HostileServer, Scenario};

/// Every scenario's client stays under this peak RSS.
const RSS_LIMIT_KB: u64 = 64 * 1024;
/// The name of the child entry below.
const CHILD: &str = "child_entry";

/// Runs the client of `ChildSpec` when this process is a child; passes at
/// once otherwise.
#[test]
fn child_entry() {
    let Some(spec) = ChildSpec::from_env() else {
        return;
    };
    let config: SessionConfig = toml::from_str(&spec.config).expect("the child's config");
    let options = Builder::from_config(config).retry_initial_connect(true);
    match spec.adapter.as_str() {
        "json_rpc" => drive(&spec, options, wsnova_adapters::JsonRpc::new()),
        _ => drive(&spec, options, Plain),
    }
    child::print_peak();
}

fn drive<A: Adapter>(spec: &ChildSpec, options: Builder, adapter: A) {
    let start = Instant::now();
    let until = start + spec.run_for;
    let mut seen = Vec::new();
    let mut record = |event: &Event| {
        let at = start.elapsed();
        let text = format!("{event:?}");
        child::print_event(at, &text);
        seen.push((at, text));
        spec.done(&seen) || matches!(event, Event::Closed { .. })
    };
    if spec.driver == "mio" {
        use wsnova_mio::ConnectOn as _;
        let event_loop = wsnova_mio::EventLoop::new().expect("an event loop");
        let (_handle, events) = options
            .spawn_without_waiting(&event_loop, adapter)
            .expect("spawn");
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            match events.recv_timeout(left) {
                Ok(event) if record(&event) => break,
                Ok(_) => {}
                Err(_) => break,
            }
        }
    } else {
        use wsnova_tokio::Connect as _;
        // One thread for the driver and this consumer: the harshest case
        // for timers under a flood.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async {
            let (_client, mut events) = options.spawn_without_waiting(adapter).expect("spawn");
            let deadline = tokio::time::Instant::from_std(until);
            while let Ok(Some(event)) = tokio::time::timeout_at(deadline, events.recv()).await {
                if record(&event) {
                    break;
                }
            }
        });
    }
}

/// A TOML configuration for `server`, with fixed backoff `backoff_ms` unless
/// `extra` sets its own.
fn config(server: &HostileServer, extra: &str) -> String {
    let timeout = if extra.contains("connect_timeout") {
        ""
    } else {
        "connect_timeout = \"2s\"\n"
    };
    format!("url = \"{}\"\nseed = 7\n{timeout}{extra}\n", server.url())
}

const FIXED_200MS: &str =
    "[backoff]\nstrategy = \"linear\"\nbase = \"200ms\"\nmax_delay = \"200ms\"\n";
const NO_PINGS: &str = "[heartbeat]\nping_interval = \"off\"\n";

/// Plays `scenario` against a child client on `driver`.
fn play(
    driver: &str,
    adapter: &str,
    scenario: Scenario,
    extra: &str,
    run: Run,
) -> (Report, Vec<Instant>, Instant) {
    let server = HostileServer::start(scenario);
    let spec = ChildSpec {
        driver: driver.into(),
        adapter: adapter.into(),
        config: config(&server, extra),
        run_for: run.run_for,
        stop_after: run.stop_after,
        stop_on: run.stop_on.into(),
    };
    let started = Instant::now();
    let report = child::run(CHILD, &spec);
    eprintln!(
        "[{driver}] {} events, peak RSS {} KiB",
        report.events.len(),
        report.peak_rss_kb
    );
    assert!(
        report.peak_rss_kb > 0 && report.peak_rss_kb < RSS_LIMIT_KB,
        "[{driver}] peak RSS {} KiB",
        report.peak_rss_kb
    );
    (report, server.accepted(), started)
}

struct Run {
    run_for: Duration,
    stop_after: usize,
    stop_on: &'static str,
}

fn until(n: usize, stop_on: &'static str, secs: u64) -> Run {
    Run {
        run_for: Duration::from_secs(secs),
        stop_after: n,
        stop_on,
    }
}

/// Runs `check` for both drivers at once.
fn both(check: impl Fn(&str) + Send + Sync + Copy + 'static) {
    let mio = std::thread::spawn(move || check("mio"));
    check("tokio");
    mio.join().expect("the mio run");
}

fn the_one<'a>(report: &'a Report, needle: &str) -> &'a (Duration, String) {
    report
        .events
        .iter()
        .find(|(_, e)| e.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?} in {:#?}", report.events))
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

/// The gap between the first two connections the server accepted.
fn first_gap(accepted: &[Instant]) -> Duration {
    assert!(accepted.len() >= 2, "a reconnect came: {accepted:?}");
    accepted[1] - accepted[0]
}

#[test]
fn an_upgrade_that_never_answers_times_out_and_retries_after_the_backoff() {
    both(|driver| {
        let extra = format!("connect_timeout = \"1s\"\n{NO_PINGS}{FIXED_200MS}");
        let (report, accepted, _) = play(
            driver,
            "plain",
            Scenario::NeverAnswer,
            &extra,
            until(2, "Disconnected", 10),
        );
        let (at, text) = the_one(&report, "Disconnected");
        assert!(
            text.contains("ConnectTimeout") && text.contains("reconnect_in: Some(200ms)"),
            "{text}"
        );
        assert!(
            (0.9..1.6).contains(&secs(*at)),
            "[{driver}] timed out at {at:?}"
        );
        let gap = first_gap(&accepted);
        assert!(
            (1.1..2.0).contains(&secs(gap)),
            "[{driver}] reconnected after {gap:?}"
        );
    });
}

#[test]
fn a_byte_at_a_time_upgrade_succeeds_and_a_normal_close_stops_when_asked() {
    both(|driver| {
        let extra = format!("stop = \"on_normal_close\"\n{NO_PINGS}{FIXED_200MS}");
        let scenario = Scenario::ByteAtATime {
            gap: Duration::from_millis(1),
        };
        let (report, accepted, _) =
            play(driver, "plain", scenario, &extra, until(1, "Closed {", 10));
        let texts: Vec<&str> = report.events.iter().map(|(_, e)| e.as_str()).collect();
        assert_eq!(
            texts[..3],
            ["Connected", "Ready", "Message(Text(\"slow\"))"],
            "[{driver}]"
        );
        assert!(
            texts[3].contains("ServerClosed") && texts[3].contains("reconnect_in: None"),
            "{}",
            texts[3]
        );
        assert!(
            texts[4].starts_with("Closed { reason: Stopped("),
            "{}",
            texts[4]
        );
        assert_eq!(accepted.len(), 1, "[{driver}] stopped: no reconnect");
    });
}

#[test]
fn a_one_mebibyte_response_head_is_refused_within_bounded_memory() {
    both(|driver| {
        let extra = format!("{NO_PINGS}{FIXED_200MS}");
        let (report, accepted, _) = play(
            driver,
            "plain",
            Scenario::HugeHead,
            &extra,
            until(2, "Disconnected", 10),
        );
        let (_, text) = the_one(&report, "Disconnected");
        assert!(
            text.contains("ResponseTooLarge") && text.contains("Some(200ms)"),
            "{text}"
        );
        assert!(secs(first_gap(&accepted)) >= 0.2, "[{driver}]");
    });
}

#[test]
fn a_wrong_accept_key_fails_the_upgrade_and_retries() {
    both(|driver| {
        let extra = format!("{NO_PINGS}{FIXED_200MS}");
        let (report, accepted, _) = play(
            driver,
            "plain",
            Scenario::WrongAccept,
            &extra,
            until(2, "Disconnected", 10),
        );
        let (_, text) = the_one(&report, "Disconnected");
        assert!(
            text.contains("InvalidHandshake") && text.contains("Sec-WebSocket-Accept"),
            "{text}"
        );
        let gap = first_gap(&accepted);
        assert!((0.2..1.0).contains(&secs(gap)), "[{driver}] {gap:?}");
    });
}

/// `Retry-After` is waited out (with jitter), for Plain and JsonRpc alike.
fn retry_after_is_honoured(
    driver: &str,
    adapter: &str,
    scenario: Scenario,
    parsed: &str,
    window: (f64, f64),
) {
    let (report, accepted, _) = play(
        driver,
        adapter,
        scenario,
        NO_PINGS,
        until(2, "Disconnected", 15),
    );
    let (_, text) = the_one(&report, "Disconnected");
    assert!(
        text.contains("status: 503") && text.contains(parsed),
        "{text}"
    );
    let gap = secs(first_gap(&accepted));
    assert!(
        gap >= window.0 && gap <= window.1,
        "[{driver}/{adapter}] came back after {gap} s"
    );
}

#[test]
fn retry_after_seconds_is_waited_out_by_every_adapter() {
    both(|driver| {
        for adapter in ["plain", "json_rpc"] {
            let parsed = "retry_after: Some(Delay(7s))";
            // 7 s plus up to 0.7 s of jitter, and scheduling slack.
            retry_after_is_honoured(
                driver,
                adapter,
                Scenario::RetryAfterSeconds(7),
                parsed,
                (7.0, 8.2),
            );
        }
    });
}

#[test]
fn retry_after_as_an_http_date_is_waited_out_by_every_adapter() {
    both(|driver| {
        for adapter in ["plain", "json_rpc"] {
            // The date is 7 to 8 s ahead (whole seconds), plus jitter.
            retry_after_is_honoured(
                driver,
                adapter,
                Scenario::RetryAfterDate(7),
                "retry_after: Some(At {",
                (6.9, 9.4),
            );
        }
    });
}

#[test]
fn a_half_open_connection_is_found_by_the_pong_deadline() {
    both(|driver| {
        let extra =
            format!("[heartbeat]\nping_interval = \"300ms\"\npong_timeout = \"1s\"\n{FIXED_200MS}");
        let (report, accepted, _) = play(
            driver,
            "plain",
            Scenario::HalfOpen,
            &extra,
            until(1, "Disconnected", 10),
        );
        let (connected, _) = the_one(&report, "Connected");
        let (lost, text) = the_one(&report, "Disconnected");
        assert!(
            text.contains("PongTimeout") && text.contains("Some(200ms)"),
            "{text}"
        );
        let after = secs(*lost - *connected);
        assert!(
            (1.2..1.5).contains(&after),
            "[{driver}] pong deadline after {after} s"
        );
        assert_eq!(accepted.len(), 1);
    });
}

#[test]
fn a_ping_flood_from_a_server_that_never_reads_keeps_memory_bounded_and_deadlines_on_time() {
    let flood: u64 = std::env::var("WSNOVA_FLOOD_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    both(move |driver| {
        let extra =
            format!("[heartbeat]\nping_interval = \"1s\"\npong_timeout = \"4s\"\n{FIXED_200MS}");
        let run = Run {
            run_for: Duration::from_secs(flood),
            stop_after: 0,
            stop_on: "",
        };
        let (report, _, _) = play(driver, "plain", Scenario::PingFloodNoRead, &extra, run);
        let mut connected = None;
        let mut deadlines = Vec::new();
        for (at, text) in &report.events {
            if text == "Connected" {
                connected = Some(*at);
            } else if text.contains("PongTimeout") {
                let since = *at - connected.expect("connected first");
                // The first ping leaves 1 s after the upgrade; its pong
                // deadline is 4 s later: within 10 % of 4 s.
                let late = secs(since) - 5.0;
                deadlines.push(late);
                assert!(
                    late.abs() <= 0.4,
                    "[{driver}] the 4 s deadline fired {late:+.3} s off: {:?}",
                    report.events
                );
            }
        }
        eprintln!("[{driver}] events {:?}", report.events);
        eprintln!(
            "[{driver}] flood {flood} s: deadlines off by {deadlines:?} s, peak RSS {} KiB",
            report.peak_rss_kb
        );
        assert!(
            !deadlines.is_empty(),
            "[{driver}] the pong deadline fired: {:#?}",
            report.events
        );
    });
}

#[test]
fn ten_thousand_one_byte_fragments_make_one_message() {
    both(|driver| {
        let extra = format!("stop = \"on_normal_close\"\n{NO_PINGS}{FIXED_200MS}");
        let (report, _, _) = play(
            driver,
            "plain",
            Scenario::Fragments(10_000),
            &extra,
            until(1, "Closed {", 10),
        );
        // `Debug` shows the start of a long text and its length.
        let (_, message) = the_one(&report, "Message(");
        assert!(
            message.starts_with("Message(Text(\"xxxxxxxx"),
            "[{driver}] {message}"
        );
        assert!(
            message.ends_with("\"… (10000 bytes)))"),
            "[{driver}] the whole message: {message}"
        );
        the_one(&report, "Closed { reason: Stopped(ServerClosed");
    });
}

#[test]
fn a_reset_mid_frame_is_reported_as_a_reset_with_the_os_error() {
    both(|driver| {
        let extra = format!("[heartbeat]\nping_interval = \"200ms\"\n{FIXED_200MS}");
        let (report, accepted, _) = play(
            driver,
            "plain",
            Scenario::ResetMidFrame,
            &extra,
            until(2, "Disconnected", 10),
        );
        let (_, text) = the_one(&report, "Disconnected");
        assert!(
            text.contains("reason: Reset(") && text.to_lowercase().contains("reset by peer"),
            "[{driver}] {text}"
        );
        assert!(text.contains("Some(200ms)"), "{text}");
        assert!(secs(first_gap(&accepted)) >= 0.2, "[{driver}]");
    });
}

#[test]
fn an_accept_then_close_storm_meets_a_growing_backoff() {
    both(|driver| {
        let extra = format!(
            "{NO_PINGS}[backoff]\nstrategy = \"exponential\"\nbase = \"100ms\"\nmax_delay = \"800ms\"\n"
        );
        let run = Run {
            run_for: Duration::from_secs(4),
            stop_after: 0,
            stop_on: "",
        };
        let (report, accepted, _) = play(driver, "plain", Scenario::AcceptThenClose, &extra, run);
        for (_, text) in report.matching("Disconnected") {
            assert!(
                text.contains("HandshakeEof")
                    || text.contains("Reset(")
                    || text.contains("TransportClosed"),
                "[{driver}] {text}"
            );
        }
        // 100, 200, 400, 800, 800 ms...: about 7 connections in 4 s, not a storm.
        assert!(
            (4..=10).contains(&accepted.len()),
            "[{driver}] {} connections",
            accepted.len()
        );
        for (i, pair) in accepted.windows(2).enumerate() {
            let floor = Duration::from_millis((100u64 << i.min(3)).min(800));
            assert!(
                pair[1] - pair[0] >= floor,
                "[{driver}] gap {i}: {:?} < {floor:?}",
                pair[1] - pair[0]
            );
        }
    });
}
