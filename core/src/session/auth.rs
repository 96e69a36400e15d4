//! Authentication: the credentials' request on every new connection, the
//! token it yields, its refresh before expiry, re-authentication when a
//! refresh is refused, and what a token refused after a refresh means.

use std::time::Instant;

use rand::Rng;

use super::adapter::AuthContext;
use super::credentials::AuthToken;
use super::event::{DisconnectReason, Event, Initiator, RpcError};
use super::json::JsonText;
use super::outbound::Link;
use super::outbox::{Ev, Outbox};
use super::requests::Purpose;
use super::timers::Timer;

/// The auth state of a session.
#[derive(Debug, Default)]
pub(crate) struct Auth {
    /// The token of the current connection; `None` until authenticated on
    /// it, and again once authentication failed or the connection is lost.
    token: Option<AuthToken>,
    /// Where the wall clock stood at an instant, if the driver said (for signed auth).
    wall_clock: Option<(Instant, u64)>,
    /// A connection was already replaced because a fresh token was refused
    /// for one of the core's requests; cleared when the session is ready again.
    replaced_for_refused_token: bool,
}

impl Auth {
    /// Whether the current connection is authenticated.
    pub(crate) fn is_authenticated(&self) -> bool {
        self.token.is_some()
    }

    /// The driver told the wall-clock time at `now`.
    pub(crate) fn set_unix_time(&mut self, now: Instant, unix_ms: u64) {
        self.wall_clock = Some((now, unix_ms));
    }

    /// The wall-clock time at `now` (ms since the epoch), if the driver told it.
    pub(crate) fn unix_time_ms(&self, now: Instant) -> Option<u64> {
        self.wall_clock
            .map(|(at, unix_ms)| unix_ms + now.saturating_duration_since(at).as_millis() as u64)
    }

    /// Sends the auth request; `false` without credentials or an auth protocol.
    pub(crate) fn start(&mut self, link: &mut Link<'_>) -> bool {
        let Some(credentials) = link.env.config.credentials.as_ref() else {
            return false;
        };
        let now = link.env.now;
        let rng = &mut link.env.rng;
        let context = AuthContext {
            unix_time_ms: self.unix_time_ms(now),
            nonce: (0..12)
                .map(|_| {
                    char::from(
                        b"0123456789abcdefghijklmnopqrstuvwxyz"[(rng.next_u32() % 36) as usize],
                    )
                })
                .collect(),
        };
        let Some(request) = link.adapter.auth_request(credentials, &context) else {
            return false;
        };
        // The request's params carry the credentials: only its method is logged.
        tracing::debug!(method = %request.method, "authenticating");
        link.send_control(Purpose::Auth, request);
        true
    }

    /// Refreshes the token, or authenticates afresh when the adapter cannot refresh.
    pub(crate) fn start_refresh(&mut self, link: &mut Link<'_>) {
        match self
            .token
            .as_ref()
            .and_then(|t| link.adapter.refresh_request(t))
        {
            Some(request) => {
                tracing::debug!(method = %request.method, "refreshing the access token");
                link.send_control(Purpose::Refresh, request);
            }
            None => {
                tracing::debug!("no refresh request: authenticating afresh");
                self.start(link);
            }
        }
    }

    /// The answer to an auth (`purpose` `Auth`) or refresh (`Refresh`) request.
    pub(crate) fn on_response(
        &mut self,
        link: &mut Link<'_>,
        purpose: Purpose,
        outcome: Result<JsonText, RpcError>,
    ) {
        let adapter = link.adapter;
        let token = match outcome {
            Ok(result) => adapter.read_auth(result.as_str()).map_err(|m| (m, false)),
            Err(e) => {
                let fatal = purpose == Purpose::Auth && adapter.auth_error_is_fatal(&e);
                Err((e.message, fatal))
            }
        };
        if purpose == Purpose::Refresh && token.is_err() && self.start(link) {
            // The refresh token was refused: authenticate afresh on this connection.
            tracing::info!("token refresh refused: authenticating afresh");
            return;
        }
        let now = link.env.now;
        match token {
            Ok(token) => {
                let expires_at = token.expires_in.map(|ttl| now + ttl);
                // The token's Debug is redacted; only its lifetime is logged.
                tracing::debug!(
                    refresh = purpose == Purpose::Refresh,
                    expires_in_s = token.expires_in.map(|t| t.as_secs()),
                    "authenticated"
                );
                if let Some(ttl) = token.expires_in {
                    let after = ttl.mul_f64(link.env.config.refresh_at.clamp(0.0, 1.0));
                    link.env.timers.set(Timer::Refresh, now + after);
                }
                self.token = Some(token);
                link.env.out.emit(Event::Authenticated { expires_at });
                link.release_awaiting_auth();
                if purpose == Purpose::Auth {
                    link.env.out.raise(Ev::AuthOk);
                }
            }
            Err((error, fatal)) => {
                tracing::warn!(%error, fatal, refresh = purpose == Purpose::Refresh, "authentication failed");
                self.token = None;
                link.fail_awaiting_auth();
                let kind = if fatal { "fatal" } else { "rejected" };
                link.env.out.telemetry.auth_failure(kind);
                link.env.out.emit(Event::AuthFailed {
                    error: error.clone(),
                    fatal,
                });
                let ev = if fatal {
                    Ev::AuthFatal(error)
                } else {
                    Ev::Lost(DisconnectReason::AuthFailed(error), Initiator::Library)
                };
                link.env.out.raise(ev);
            }
        }
    }

    /// The core's own request was refused for its token once more after a
    /// refresh (a request is retried after a refresh once). Refreshing in a
    /// loop could spin against a server that keeps refusing, and dropping
    /// the request would lose a subscription, so the connection starts
    /// over: reconnect (with backoff), authenticate afresh, restore
    /// everything.
    ///
    /// Once only until the session is ready again: if a fresh connection's
    /// fresh token is refused the same way, the refusal is the channel's
    /// after all, and `false` lets it end as a plain refusal (no reconnect
    /// loop).
    pub(crate) fn token_refused_after_refresh(
        &mut self,
        out: &mut Outbox,
        error: &RpcError,
    ) -> bool {
        if self.replaced_for_refused_token {
            tracing::warn!(
                code = error.code,
                "token refused again on a fresh connection: a refusal after all"
            );
            return false;
        }
        self.replaced_for_refused_token = true;
        out.telemetry.auth_failure("token_refused");
        tracing::warn!(
            code = error.code,
            error = %error.message,
            "token refused again after a refresh: reconnecting"
        );
        out.lose(
            DisconnectReason::AuthFailed(format!(
                "token refused after a refresh: {} ({})",
                error.message, error.code
            )),
            Initiator::Library,
        );
        true
    }

    /// The machine entered `Ready`: a refused token may replace the connection again.
    pub(crate) fn on_ready(&mut self) {
        self.replaced_for_refused_token = false;
    }

    /// The connection is gone, and its token with it.
    pub(crate) fn on_connection_lost(&mut self) {
        self.token = None;
    }
}
