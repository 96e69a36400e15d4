//! `wsnova`: a WebSocket client on the command line that knows exchange
//! auth, subscriptions and request correlation (wsnova's adapters).
//!
//! ```text
//! echo hello | wsnova ws://127.0.0.1:9001/
//! wsnova wss://test.deribit.com/ws/api/v2 --adapter deribit \
//!     --request public/get_time '{}' --subscribe ticker.BTC-PERPETUAL.100ms -n --count 5
//! ```
//!
//! `wsnova --help` lists every flag and the exit codes ([`exit::Exit`]);
//! `wsnova replay FILE` serves a recording made with `--record FILE`;
//! `wsnova run FILE` runs the connections of a TOML file and follows it.
#![forbid(unsafe_code)]

mod args;
mod config;
mod exit;
mod health;
mod insecure;
mod options;
mod output;
mod replay_server;
mod run;
mod status;
mod supervise;

use std::process::ExitCode;

use clap::Parser;

use crate::args::Args;
use crate::exit::Exit;

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if argv.get(1).is_some_and(|a| a == "replay") {
        return replay_server::main(argv[1..].to_vec()).into();
    }
    if argv.get(1).is_some_and(|a| a == "run") {
        return supervise::main(argv[1..].to_vec()).into();
    }
    let args = match Args::try_parse_from(argv) {
        Ok(args) => args,
        Err(error) => {
            let _ = error.print();
            // `--help` and `--version` are not errors.
            return if error.use_stderr() {
                Exit::Usage.into()
            } else {
                Exit::Normal.into()
            };
        }
    };
    let builder = match options::builder(&args) {
        Ok(builder) => builder,
        Err(message) => {
            eprintln!("wsnova: {message}");
            return Exit::Usage.into();
        }
    };
    if args.insecure {
        eprintln!("wsnova: {}", insecure::WARNING);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("wsnova: cannot start the runtime: {error}");
            return Exit::Internal.into();
        }
    };
    let exit = runtime.block_on(async {
        let watched = match args.metrics {
            Some(addr) => match health::serve(addr).await {
                Ok(watched) => Some(watched),
                Err(message) => {
                    eprintln!("wsnova: {message}");
                    return Exit::Internal;
                }
            },
            None => None,
        };
        run::run(&args, builder, watched).await
    });
    // Reading stdin blocks a thread that a normal shutdown would wait for.
    runtime.shutdown_background();
    exit.into()
}
