//! Runs the mock Deribit exchange until killed.
//!
//! ```text
//! cargo run -p wsnova-tests --bin mock-deribit -- --port 0
//! LISTENING ws://127.0.0.1:<port>/ws/api/v2
//! ```
//!
//! Options: `--port N` (0: ephemeral, the default), `--seed N`,
//! `--account ID:SECRET` (repeatable; adds an API key),
//! `--min-heartbeat SECS`, `--no-rate-limit`, `--string-timestamps`.

use std::io::Write;
use std::time::Duration;

use wsnova_tests::deribit::{MockConfig, MockDeribit};

fn usage(problem: &str) -> ! {
    eprintln!("mock-deribit: {problem}");
    eprintln!(
        "usage: mock-deribit [--port N] [--seed N] [--account ID:SECRET]... \
         [--min-heartbeat SECS] [--no-rate-limit] [--string-timestamps]"
    );
    std::process::exit(2);
}

fn parse_config() -> MockConfig {
    let mut config = MockConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .unwrap_or_else(|| usage(&format!("{name} needs a value")))
        };
        match arg.as_str() {
            "--port" => {
                config.port = value("--port")
                    .parse()
                    .unwrap_or_else(|_| usage("bad --port"))
            }
            "--seed" => {
                config.seed = value("--seed")
                    .parse()
                    .unwrap_or_else(|_| usage("bad --seed"))
            }
            "--account" => {
                let v = value("--account");
                let (id, secret) = v
                    .split_once(':')
                    .unwrap_or_else(|| usage("--account wants ID:SECRET"));
                config = config.with_account(id, secret);
            }
            "--min-heartbeat" => {
                let secs: f64 = value("--min-heartbeat")
                    .parse()
                    .unwrap_or_else(|_| usage("bad --min-heartbeat"));
                config.min_heartbeat_interval = Duration::try_from_secs_f64(secs)
                    .unwrap_or_else(|_| usage("bad --min-heartbeat"));
            }
            "--no-rate-limit" => config.rate_limits = None,
            "--string-timestamps" => config.timestamps_as_strings = true,
            "-h" | "--help" => usage("help"),
            other => usage(&format!("unknown argument {other}")),
        }
    }
    config
}

fn main() {
    let mock = MockDeribit::start(parse_config());
    println!("LISTENING {}", mock.url());
    let _ = std::io::stdout().flush();
    loop {
        std::thread::park();
    }
}
