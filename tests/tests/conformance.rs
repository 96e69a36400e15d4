//! The driver conformance suite: every scenario of
//! `wsnova_tests::conformance::scenarios` runs against both drivers, the
//! tokio driver (`tokio_::*`) and the mio driver (`mio_::*`).
//!
//! The two [`DriverUnderTest`] implementations live here because the
//! drivers are dev-dependencies of the test kit: [`TokioDriver`] owns a
//! multi-threaded runtime and blocks on the async `Client`/`Events`,
//! [`MioDriver`] owns an `EventLoop` and wraps the blocking `Handle`/`Events`.
#![cfg(feature = "net")]

use std::sync::Arc;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use futures_util::StreamExt;
use wsnova_adapters::deribit::Deribit;
use wsnova_core::session::{Event, Plain, RequestError, SessionError};
use wsnova_core::wire::CloseCode;
use wsnova_tests::conformance::{
    AdapterKind, Conn, ConnectFailure, ConnectParams, DriverUnderTest, STEP, Status, Wait,
};

// ---- tokio -----------------------------------------------------------------

/// The tokio driver on a runtime of its own (two workers, so the driver
/// task runs while the test thread waits elsewhere).
struct TokioDriver {
    runtime: Arc<tokio::runtime::Runtime>,
}

impl Default for TokioDriver {
    fn default() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        TokioDriver {
            runtime: Arc::new(runtime),
        }
    }
}

struct TokioConn {
    // Dropped in order: client and events first, the runtime last.
    client: wsnova_tokio::Client,
    events: wsnova_tokio::Events,
    runtime: Arc<tokio::runtime::Runtime>,
}

fn tokio_failure(e: wsnova_tokio::ConnectError) -> ConnectFailure {
    match e {
        wsnova_tokio::ConnectError::Failed(reason) => ConnectFailure::Failed(reason),
        wsnova_tokio::ConnectError::Closed(reason) => ConnectFailure::Closed(reason),
        other => ConnectFailure::Other(other.to_string()),
    }
}

impl DriverUnderTest for TokioDriver {
    fn name(&self) -> &'static str {
        "tokio"
    }

    fn connect(&self, params: ConnectParams) -> Result<Box<dyn Conn>, ConnectFailure> {
        let builder = wsnova_tokio::Builder::from_config(params.config)
            .retry_initial_connect(params.retry_initial);
        let connecting = async move {
            match params.adapter {
                AdapterKind::Plain => wsnova_tokio::connect(builder, Plain).await,
                AdapterKind::Deribit => wsnova_tokio::connect(builder, Deribit::new()).await,
            }
        };
        let (client, events) = self
            .runtime
            .block_on(async { tokio::time::timeout(STEP, connecting).await })
            .map_err(|_| ConnectFailure::Other(format!("connect not done within {STEP:?}")))?
            .map_err(tokio_failure)?;
        Ok(Box::new(TokioConn {
            client,
            events,
            runtime: self.runtime.clone(),
        }))
    }
}

impl TokioConn {
    /// Blocks on `future`, bounded by [`STEP`].
    fn block<T>(&self, what: &str, future: impl Future<Output = T>) -> T {
        self.runtime
            .block_on(async { tokio::time::timeout(STEP, future).await })
            .unwrap_or_else(|_| panic!("tokio: {what} not done within {STEP:?}"))
    }
}

impl Conn for TokioConn {
    fn send_text(&self, text: &str) -> Result<(), SessionError> {
        self.block("send_text", self.client.send_text(text))
    }

    fn send_binary(&self, data: &[u8]) -> Result<(), SessionError> {
        self.block("send_binary", self.client.send_binary(data))
    }

    fn request(&self, method: &str, params: &serde_json::Value) -> Result<String, RequestError> {
        self.block("request", self.client.request(method, params))
            .map(|json| json.as_str().to_owned())
    }

    fn subscribe(&self, channels: &[&str]) -> Result<(), SessionError> {
        self.client.subscribe_nowait(channels)
    }

    fn ping(&self) -> Result<Duration, SessionError> {
        self.block("ping", self.client.ping())
    }

    fn next_event(&mut self, timeout: Duration) -> Result<Event, Wait> {
        let events = &mut self.events;
        match self
            .runtime
            .block_on(async { tokio::time::timeout(timeout, events.next()).await })
        {
            Ok(Some(event)) => Ok(event),
            Ok(None) => Err(Wait::Ended),
            Err(_) => Err(Wait::Timeout),
        }
    }

    fn status(&self) -> Status {
        self.client.status()
    }

    fn close_with(&self, code: CloseCode, reason: &str) -> Result<(), SessionError> {
        self.block("close", self.client.close_with(code, reason))
    }
}

// ---- mio -------------------------------------------------------------------

/// The mio driver: one event loop, shared by the connections it makes.
struct MioDriver {
    event_loop: Arc<wsnova_mio::EventLoop>,
}

impl Default for MioDriver {
    fn default() -> Self {
        MioDriver {
            event_loop: Arc::new(wsnova_mio::EventLoop::new().expect("an event loop")),
        }
    }
}

struct MioConn {
    // Dropped in order: handle and events first, then (maybe) the loop.
    handle: wsnova_mio::Handle,
    events: wsnova_mio::Events,
    _event_loop: Arc<wsnova_mio::EventLoop>,
}

fn mio_failure(e: wsnova_mio::ConnectError) -> ConnectFailure {
    match e {
        wsnova_mio::ConnectError::Failed(reason) => ConnectFailure::Failed(reason),
        wsnova_mio::ConnectError::Closed(reason) => ConnectFailure::Closed(reason),
        other => ConnectFailure::Other(other.to_string()),
    }
}

impl DriverUnderTest for MioDriver {
    fn name(&self) -> &'static str {
        "mio"
    }

    fn connect(&self, params: ConnectParams) -> Result<Box<dyn Conn>, ConnectFailure> {
        let builder = wsnova_mio::Builder::from_config(params.config)
            .retry_initial_connect(params.retry_initial);
        let (handle, events) = match params.adapter {
            AdapterKind::Plain => self.event_loop.connect(builder, Plain),
            AdapterKind::Deribit => self.event_loop.connect(builder, Deribit::new()),
        }
        .map_err(mio_failure)?;
        Ok(Box::new(MioConn {
            handle,
            events,
            _event_loop: self.event_loop.clone(),
        }))
    }
}

impl Conn for MioConn {
    fn send_text(&self, text: &str) -> Result<(), SessionError> {
        self.handle.send_text(text)
    }

    fn send_binary(&self, data: &[u8]) -> Result<(), SessionError> {
        self.handle.send_binary(data)
    }

    fn request(&self, method: &str, params: &serde_json::Value) -> Result<String, RequestError> {
        self.handle
            .request_timeout(method, params, STEP)
            .map(|json| json.as_str().to_owned())
    }

    fn subscribe(&self, channels: &[&str]) -> Result<(), SessionError> {
        self.handle.subscribe_nowait(channels)
    }

    fn ping(&self) -> Result<Duration, SessionError> {
        self.handle.ping()
    }

    fn next_event(&mut self, timeout: Duration) -> Result<Event, Wait> {
        self.events.recv_timeout(timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => Wait::Timeout,
            RecvTimeoutError::Disconnected => Wait::Ended,
        })
    }

    fn status(&self) -> Status {
        self.handle.status()
    }

    fn close_with(&self, code: CloseCode, reason: &str) -> Result<(), SessionError> {
        self.handle.close_with(code, reason)
    }
}

wsnova_tests::conformance_tests!(tokio_ => TokioDriver, mio_ => MioDriver);
