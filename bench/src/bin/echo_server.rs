//! A minimal, fast echo server for the wsnova benchmark, run as its own process.
//!
//! ```text
//! echo_server [ws|raw|--raw] [--port N] [--cpu N] [--exit-on-stdin-eof]
//! ```
//!
//! Binds 127.0.0.1 (port 0 by default), prints `LISTENING <port>` on stdout and
//! serves until killed. `ws` (the default) answers the HTTP upgrade and echoes
//! WebSocket frames unmasked, batching all the replies to one read into one
//! write; `raw` echoes TCP bytes as they come. `wsnova-bench` runs the same
//! code (`wsnova_bench::server`) by re-executing itself with `--serve`.

use std::process::ExitCode;

use wsnova_bench::server::{self, Options};

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("echo_server: {e}\nusage: echo_server {}", server::USAGE);
            return ExitCode::from(2);
        }
    };
    match server::run(options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("echo_server: {e}");
            ExitCode::FAILURE
        }
    }
}
