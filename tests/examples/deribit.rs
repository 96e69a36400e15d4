//! The README's first command: Deribit through wsnova-tokio, with a live view.
//!
//! ```text
//! cargo run --release -p wsnova-tests --example deribit            # embedded mock exchange
//! DERIBIT_CLIENT_ID=… DERIBIT_CLIENT_SECRET=… \
//!   cargo run --release -p wsnova-tests --example deribit -- --url wss://test.deribit.com/ws/api/v2
//! ```
//!
//! Without `--url` it starts the mock exchange on loopback, and the mock
//! drops the connection once mid-run: watch the session reconnect,
//! re-authenticate and resubscribe on its own.
//!
//! `--metrics 127.0.0.1:9000` serves the session's metrics (see
//! `docs/metrics.md`) for Prometheus at `http://127.0.0.1:9000/metrics`,
//! through `metrics-exporter-prometheus`.

use std::error::Error;
use std::time::{Duration, Instant};
use wsnova_core::session::{RateClass, RateLimits};

use wsnova_tests::deribit::{DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, MockConfig, MockDeribit};
use wsnova_tokio::SessionConfig;
use wsnova_tokio::adapters::deribit::calls::{Buy, Call};
use wsnova_tokio::adapters::deribit::{BookUpdate, Order, OrderParams, Ticker};
use wsnova_tokio::prelude::*;

const INSTRUMENT: &str = "BTC-PERPETUAL";
const CHANNELS: [&str; 3] = [
    "ticker.BTC-PERPETUAL.100ms",
    "book.BTC-PERPETUAL.100ms",
    "user.orders.BTC-PERPETUAL.raw",
];

/// What the live view shows.
#[derive(Default)]
struct View {
    ticker: Option<Ticker>,
    book_updates: u64,
    change_id: u64,
    order_updates: u64,
    last_order: Option<String>,
    reconnects: u64,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let (mut url, mut seconds, mut metrics) = (None, 10u64, None);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--url" => url = args.next(),
            "--seconds" => seconds = args.next().and_then(|s| s.parse().ok()).unwrap_or(10),
            "--metrics" => {
                let addr = args
                    .next()
                    .ok_or("--metrics needs an address, e.g. 127.0.0.1:9000")?;
                metrics = Some(addr.parse::<std::net::SocketAddr>()?);
            }
            other => {
                return Err(format!(
                    "unknown argument {other} (use --url URL, --seconds N, --metrics ADDR)"
                )
                .into());
            }
        }
    }
    if let Some(addr) = metrics {
        // Before the session exists: it registers its series when created.
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .with_http_listener(addr)
            .install()?;
        println!("• metrics at http://{addr}/metrics");
    }
    let mock = url
        .is_none()
        .then(|| MockDeribit::start(MockConfig::default()));
    let (url, credentials) = match &mock {
        Some(mock) => (
            mock.url(),
            Credentials::new(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
        ),
        None => {
            let id = std::env::var("DERIBIT_CLIENT_ID").map_err(|_| "set DERIBIT_CLIENT_ID")?;
            let secret =
                std::env::var("DERIBIT_CLIENT_SECRET").map_err(|_| "set DERIBIT_CLIENT_SECRET")?;
            (url.expect("given"), Credentials::new(id, secret))
        }
    };
    println!(
        "wsnova × Deribit — {url}{}",
        if mock.is_some() {
            " (embedded mock exchange)"
        } else {
            ""
        }
    );

    let adapter = Deribit::new().with_heartbeat(Duration::from_secs(10));
    let mut config = SessionConfig::new(&url)?;
    config.rate_limits = RateLimits::default().with(RateClass::DEFAULT, adapter.rate_limit(256));
    config.credentials = Some(credentials);
    let started = Instant::now();
    let (client, mut events) = wsnova_tokio::Builder::from_config(config)
        .connect(adapter)
        .await?;
    println!(
        "• ready after {:?}: connected and authenticated",
        started.elapsed()
    );
    client.subscribe(&CHANNELS).await?;

    let mut view = View::default();
    let mut order_placed = false;
    let mut dropped = false;
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let end = tokio::time::sleep(Duration::from_secs(seconds));
    tokio::pin!(end);
    loop {
        tokio::select! {
            event = events.recv() => {
                let Some(event) = event else { break };
                show(&mut view, event);
            }
            _ = tick.tick() => {
                print_view(&view, started);
                if !order_placed && let Some(bid) = view.ticker.as_ref().and_then(|t| t.best_bid_price) {
                    order_placed = true;
                    // A small limit order well below the market: it rests in the book.
                    let order = Buy(OrderParams::limit(INSTRUMENT, 10.0, (bid - 500.0).max(1.0)).label("wsnova-demo"));
                    match client.request(Buy::METHOD, &order).await {
                        Ok(result) => match Buy::parse(&result) {
                            Ok(r) => println!("• order placed: {} {} @ {:?}", r.order.order_id, r.order.order_state, r.order.price),
                            Err(e) => println!("• order placed, result not understood: {e}"),
                        },
                        Err(e) => println!("• order refused: {e}"),
                    }
                }
                if let Some(mock) = &mock
                    && !dropped
                    && started.elapsed() > Duration::from_secs(seconds / 2)
                {
                    dropped = true;
                    println!("• the mock exchange drops the connection now");
                    mock.faults().live().drop_now();
                }
            }
            _ = &mut end => break,
        }
    }
    client.close().await?;
    let status = client.status();
    println!(
        "• closed: {} messages in, {} out, {} reconnect(s), last ping {:?}",
        status.stats.messages_in,
        status.stats.messages_out,
        status.stats.reconnects,
        status.stats.last_rtt
    );
    Ok(())
}

/// Lifecycle events as they happen; data updates into the view.
fn show(view: &mut View, event: Event) {
    match event {
        Event::Notification { channel, data } => {
            if channel.starts_with("ticker.") {
                view.ticker = data.parse().ok();
            } else if channel.starts_with("book.") {
                if let Ok(book) = data.parse::<BookUpdate>() {
                    view.book_updates += 1;
                    view.change_id = book.change_id;
                }
            } else if channel.starts_with("user.orders.") {
                view.order_updates += 1;
                let order: Option<Order> = data.parse().ok();
                view.last_order = order.map(|o| format!("{} {}", o.order_id, o.order_state));
            }
        }
        Event::Disconnected {
            reason,
            reconnect_in,
            ..
        } => {
            println!("• disconnected: {reason:?}; reconnecting in {reconnect_in:?}");
        }
        Event::Reconnecting { attempt } => {
            view.reconnects += 1;
            println!("• reconnecting (attempt {attempt})");
        }
        // `connect` reported the first connection; later ones are news.
        Event::Connected if view.reconnects > 0 => println!("• connected"),
        Event::Authenticated { .. } if view.reconnects > 0 => println!("• authenticated"),
        Event::Subscribed { channels } => println!("• subscribed: {}", channels.join(", ")),
        Event::SubscriptionFailed { channels, error } => {
            println!("• subscription failed: {} ({error})", channels.join(", "))
        }
        Event::Gap { channel, .. } => {
            println!("• gap in {channel}: resubscribing for a fresh snapshot")
        }
        Event::Ready if view.reconnects > 0 => println!("• ready"),
        Event::Closed { reason } => println!("• session closed: {reason:?}"),
        _ => {}
    }
}

fn print_view(view: &View, started: Instant) {
    let price = |p: Option<f64>| p.map_or("-".to_owned(), |p| format!("{p:.1}"));
    let (last, bid, ask) = match &view.ticker {
        Some(t) => (
            price(t.last_price),
            price(t.best_bid_price),
            price(t.best_ask_price),
        ),
        None => ("-".into(), "-".into(), "-".into()),
    };
    println!(
        "{:>5.1}s  {INSTRUMENT}  last {last}  bid {bid} / ask {ask}  book {} updates (change {})  orders {} update(s){}",
        started.elapsed().as_secs_f64(),
        view.book_updates,
        view.change_id,
        view.order_updates,
        view.last_order
            .as_ref()
            .map_or(String::new(), |o| format!(" [{o}]")),
    );
}
