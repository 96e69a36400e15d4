//! Subscriptions: the channels the application wants, their (un)subscribe
//! requests and answers, and the restore phase of every new connection
//! (the adapter's setup requests, then private and public resubscriptions;
//! `Restored` follows when all are answered).
//!
//! Every (un)subscribe request is split and paced by the adapter's
//! [`SubscribeLimits`](super::SubscribeLimits) (see `batches` for the rules):
//! the restore counts each batch, sent or still waiting for its turn.

use super::batches::{self, Batch, Batches, Kind};
use super::channels::Channels;
use super::event::{Event, RpcError};
use super::json::JsonText;
use super::outbound::Link;
use super::outbox::{Ev, Outbox};
use super::requests::Purpose;
use super::state::SessionState;
use super::timers::Timer;

/// The subscription state of a session.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    channels: Channels,
    /// Setup and (re/un)subscribe requests the `Restoring` phase still waits
    /// for (sent ones; batches waiting to leave are in `batches`).
    restore_outstanding: usize,
    /// (Un)subscribe batches waiting for their turn, and the pacing window.
    batches: Batches,
}

impl Subscriptions {
    /// The channel sets.
    pub(crate) fn channels(&self) -> &Channels {
        &self.channels
    }

    /// The application wants `channels`: they are subscribed now if the
    /// phase allows (past authentication), else on the next restore.
    pub(crate) fn subscribe(&mut self, link: &mut Link<'_>, channels: &[String]) {
        self.channels.want(channels);
        if link.phase.is_past_auth() {
            self.request_missing(link);
        }
    }

    /// The application no longer wants `channels`: confirmed ones are
    /// unsubscribed now if the phase allows (the same question as
    /// [`subscribe`](Self::subscribe) asks).
    pub(crate) fn unsubscribe(&mut self, link: &mut Link<'_>, channels: &[String]) {
        let confirmed = self.channels.unwant(channels);
        if link.phase.is_past_auth() && !confirmed.is_empty() {
            self.request_unsubscribe(link, confirmed);
        }
    }

    /// Entering `Restoring`: on-connect requests, then private and public
    /// resubscriptions; `Restored` follows when all are answered.
    pub(crate) fn start_restore(&mut self, link: &mut Link<'_>) {
        self.restore_outstanding = 0;
        for request in link.adapter.on_connected() {
            link.send_control(Purpose::Setup, request);
            self.restore_outstanding += 1;
        }
        self.request_missing(link);
        if self.restore_outstanding == 0 && self.batches.is_empty() {
            link.env.out.raise(Ev::Restored);
        }
    }

    /// One setup or (re/un)subscribe request got its outcome. The restore
    /// is done when no request is outstanding and no batch waits to leave.
    pub(crate) fn restore_step_done(&mut self, phase: SessionState, out: &mut Outbox) {
        if phase.is_ready() || self.restore_outstanding == 0 {
            return;
        }
        self.restore_outstanding -= 1;
        if self.restore_outstanding == 0 && self.batches.is_empty() {
            out.raise(Ev::Restored);
        }
    }

    /// Sends the waiting batches whose turn has come (the pacing window of
    /// [`SubscribeLimits::max_requests_per_second`](super::SubscribeLimits::max_requests_per_second),
    /// on `now`), and arms the timer for the next one.
    pub(crate) fn send_batches(&mut self, link: &mut Link<'_>) {
        let timers = |link: &mut Link<'_>, at| match at {
            Some(at) => link.env.timers.set(Timer::SubscribeBatch, at),
            None => link.env.timers.clear(Timer::SubscribeBatch),
        };
        if !link.phase.is_past_auth() {
            return timers(link, None);
        }
        let per_second = link.adapter.subscribe_limits().max_requests_per_second;
        let now = link.env.now;
        while let Some(Batch {
            kind,
            channels,
            request,
            ..
        }) = self.batches.pop_due(now, per_second)
        {
            tracing::debug!(count = channels.len(), ?kind, method = %request.method, "sending batch");
            let purpose = match kind {
                Kind::Subscribe => Purpose::Subscribe(channels),
                Kind::Unsubscribe => Purpose::Unsubscribe(channels),
            };
            link.send_control(purpose, request);
            // Ready means confirmed == desired: wait for it while restoring.
            if !link.phase.is_ready() {
                self.restore_outstanding += 1;
            }
        }
        let next = self.batches.next_at(now, per_second);
        timers(link, next);
    }

    /// Splits `channels` into batches that fit the adapter's limits and
    /// queues them; returns the channels the adapter has no request for.
    /// A channel too large for any request is refused here, with the sizes.
    fn plan(
        &mut self,
        link: &mut Link<'_>,
        kind: Kind,
        channels: &[String],
        private: bool,
    ) -> Vec<String> {
        let limits = link.adapter.subscribe_limits();
        // Channels join the last waiting batch of their kind (re-split together).
        let mut joined: Vec<String> = match self.batches.take_tail(kind, private) {
            Some(tail) => tail.channels,
            None => Vec::new(),
        };
        let mut seen: std::collections::HashSet<&str> = joined.iter().map(String::as_str).collect();
        let fresh: Vec<String> = channels
            .iter()
            .filter(|c| seen.insert(c.as_str()))
            .cloned()
            .collect();
        joined.extend(fresh);
        let plan = batches::plan(link.adapter, &limits, kind, private, &joined);
        for (channel, size) in plan.too_large {
            let max = limits.max_frame_bytes.unwrap_or(usize::MAX);
            let what = match kind {
                Kind::Subscribe => "subscribe",
                Kind::Unsubscribe => "unsubscribe",
            };
            let error = format!(
                "channel name too long: a {what} request for it alone is {size} bytes, \
                 over the adapter's limit of {max} bytes per frame"
            );
            tracing::warn!(%channel, size, max, "{error}");
            let channels = match kind {
                Kind::Subscribe => self.channels.on_subscribe_failed(&[channel]),
                Kind::Unsubscribe => vec![channel],
            };
            if !channels.is_empty() {
                link.env
                    .out
                    .emit(Event::SubscriptionFailed { channels, error });
            }
        }
        if plan.batches.len() > 1 {
            tracing::debug!(
                batches = plan.batches.len(),
                count = joined.len(),
                private,
                "split into batches"
            );
        }
        for batch in plan.batches {
            self.batches.push(batch);
        }
        plan.unsupported
    }

    /// Subscribes to desired channels not yet requested: private ones first,
    /// in batches that fit the adapter's limits.
    pub(crate) fn request_missing(&mut self, link: &mut Link<'_>) {
        let todo = self.channels.take_unrequested();
        let adapter = link.adapter;
        let (private, public): (Vec<String>, Vec<String>) =
            todo.into_iter().partition(|c| adapter.is_private(c));
        for (channels, private) in [(private, true), (public, false)] {
            if channels.is_empty() {
                continue;
            }
            tracing::debug!(count = channels.len(), private, "subscribing");
            let unsupported = self.plan(link, Kind::Subscribe, &channels, private);
            if !unsupported.is_empty() {
                let channels = self.channels.on_subscribe_failed(&unsupported);
                tracing::warn!(
                    ?channels,
                    "subscription failed: the adapter has no subscriptions"
                );
                link.env.out.emit(Event::SubscriptionFailed {
                    channels,
                    error: "the adapter has no subscriptions".into(),
                });
            }
        }
        self.send_batches(link);
    }

    /// Ends subscriptions the server confirmed, in batches that fit.
    pub(crate) fn request_unsubscribe(&mut self, link: &mut Link<'_>, channels: Vec<String>) {
        let adapter = link.adapter;
        let (private, public): (Vec<String>, Vec<String>) =
            channels.into_iter().partition(|c| adapter.is_private(c));
        for (channels, private) in [(private, true), (public, false)] {
            if channels.is_empty() {
                continue;
            }
            let unsupported = self.plan(link, Kind::Unsubscribe, &channels, private);
            if !unsupported.is_empty() {
                self.channels.on_unsubscribed(&unsupported);
                link.env.out.emit(Event::Unsubscribed {
                    channels: unsupported,
                });
            }
        }
        self.send_batches(link);
    }

    /// The answer to a subscribe request for `channels`. `token_refused`:
    /// the server refused the token, not the channels (the connection is
    /// being replaced).
    pub(crate) fn on_subscribe_answer(
        &mut self,
        link: &mut Link<'_>,
        channels: &[String],
        outcome: Result<JsonText, RpcError>,
        token_refused: bool,
    ) {
        match outcome {
            Ok(result) => {
                let confirmed = link.adapter.confirmed_channels(channels, result.as_str());
                let (ok, refused, unwanted) = self.channels.on_subscribed(channels, &confirmed);
                if !ok.is_empty() {
                    tracing::debug!(count = ok.len(), "subscriptions confirmed");
                    tracing::trace!(channels = ?ok, "subscriptions confirmed");
                    link.env.out.emit(Event::Subscribed { channels: ok });
                }
                if !refused.is_empty() {
                    tracing::warn!(channels = ?refused, "subscriptions not confirmed by the server");
                    link.env.out.emit(Event::SubscriptionFailed {
                        channels: refused,
                        error: "not confirmed by the server".into(),
                    });
                }
                if !unwanted.is_empty() {
                    self.request_unsubscribe(link, unwanted);
                }
            }
            Err(_) if token_refused => {
                // The server refused the token, not the channels: they stay
                // desired and are restored on the next connection.
                self.channels.on_subscribe_unanswered(channels);
            }
            Err(e) => {
                let dropped = self.channels.on_subscribe_failed(channels);
                if !dropped.is_empty() {
                    tracing::warn!(channels = ?dropped, code = e.code, error = %e.message, "subscriptions refused");
                    link.env.out.emit(Event::SubscriptionFailed {
                        channels: dropped,
                        error: format!("{} ({})", e.message, e.code),
                    });
                }
            }
        }
        self.restore_step_done(link.phase, &mut link.env.out);
    }

    /// The answer to an unsubscribe request for `channels`; `token_refused`
    /// as for [`on_subscribe_answer`](Self::on_subscribe_answer).
    pub(crate) fn on_unsubscribe_answer(
        &mut self,
        link: &mut Link<'_>,
        channels: Vec<String>,
        outcome: Result<JsonText, RpcError>,
        token_refused: bool,
    ) {
        match outcome {
            Ok(_) => {
                self.channels.on_unsubscribed(&channels);
                link.env.out.emit(Event::Unsubscribed { channels });
                // Channels wanted again while the unsubscribe was in flight.
                if link.phase.is_past_auth() {
                    self.request_missing(link);
                }
            }
            Err(_) if token_refused => {}
            Err(e) => {
                link.env.out.emit(Event::SubscriptionFailed {
                    channels,
                    error: format!("unsubscribe refused: {}", e.message),
                });
            }
        }
        self.restore_step_done(link.phase, &mut link.env.out);
    }

    /// A subscribe request got no answer in time. No answer is not a
    /// refusal: the channels stay desired and are requested again (a dead
    /// connection is replaced first).
    pub(crate) fn on_subscribe_expired(&mut self, link: &mut Link<'_>, channels: &[String]) {
        tracing::debug!(
            count = channels.len(),
            "subscribe request timed out: will ask again"
        );
        self.channels.on_subscribe_unanswered(channels);
        if link.phase.is_past_auth() {
            self.request_missing(link);
        }
        // After the new request counts: restoring is not done yet.
        self.restore_step_done(link.phase, &mut link.env.out);
    }

    /// An unsubscribe request got no answer in time. No answer is not an
    /// end: channels still confirmed and no longer wanted are asked about
    /// again, or the server keeps sending them. (A resync's channels are
    /// still wanted: the resync deadline asks again for those.)
    pub(crate) fn on_unsubscribe_expired(&mut self, link: &mut Link<'_>, channels: Vec<String>) {
        let unwanted: Vec<String> = channels
            .into_iter()
            .filter(|c| {
                self.channels.confirmed().contains(c) && !self.channels.desired().contains(c)
            })
            .collect();
        if !unwanted.is_empty() && link.phase.is_past_auth() {
            tracing::debug!(
                count = unwanted.len(),
                "unsubscribe request timed out: will ask again"
            );
            self.request_unsubscribe(link, unwanted);
        }
        self.restore_step_done(link.phase, &mut link.env.out); // after the new request counts
    }

    /// A channel needs a fresh snapshot (a sequence gap): unsubscribe then
    /// (still desired) subscribe again, or just subscribe when not confirmed.
    pub(crate) fn resubscribe(&mut self, link: &mut Link<'_>, channel: &str) {
        if self.channels.confirmed().contains(channel) {
            self.request_unsubscribe(link, vec![channel.to_owned()]);
        } else if link.phase.is_past_auth() {
            self.channels.on_subscribe_unanswered(&[channel.to_owned()]);
            self.request_missing(link);
        }
    }

    /// The connection is gone: the server forgot everything; nothing is
    /// restoring; waiting batches are built afresh on the next connection.
    pub(crate) fn on_connection_lost(&mut self) {
        self.channels.on_connection_lost();
        self.restore_outstanding = 0;
        self.batches.clear();
    }
}
