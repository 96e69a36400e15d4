//! The channel sets behind subscriptions: desired versus confirmed. A channel
//! is confirmed only by the server's answer to a subscribe request, never by
//! data arriving on it.

use std::collections::BTreeSet;

/// The channels the application wants and the ones the server confirmed on
/// the current connection.
#[derive(Debug, Default)]
pub(crate) struct Channels {
    desired: BTreeSet<String>,
    confirmed: BTreeSet<String>,
    /// Requested on this connection, not yet answered.
    requested: BTreeSet<String>,
}

impl Channels {
    /// Adds channels to the desired set.
    pub(crate) fn want(&mut self, channels: &[String]) {
        self.desired.extend(channels.iter().cloned());
    }

    /// Removes channels from the desired set; returns those the server has
    /// confirmed, which need an unsubscribe request.
    pub(crate) fn unwant(&mut self, channels: &[String]) -> Vec<String> {
        channels
            .iter()
            .filter(|c| self.desired.remove(*c) && self.confirmed.contains(*c))
            .cloned()
            .collect()
    }

    /// Desired channels neither confirmed nor requested; marks them requested.
    pub(crate) fn take_unrequested(&mut self) -> Vec<String> {
        let todo: Vec<String> = self
            .desired
            .iter()
            .filter(|c| !self.confirmed.contains(*c) && !self.requested.contains(*c))
            .cloned()
            .collect();
        self.requested.extend(todo.iter().cloned());
        todo
    }

    /// The server answered a subscribe for `requested`, confirming `confirmed`.
    /// Returns (newly confirmed, refused, confirmed but no longer desired).
    pub(crate) fn on_subscribed(
        &mut self,
        requested: &[String],
        confirmed: &[String],
    ) -> (Vec<String>, Vec<String>, Vec<String>) {
        let mut ok = Vec::new();
        let mut refused = Vec::new();
        let mut unwanted = Vec::new();
        for channel in requested {
            self.requested.remove(channel);
            if confirmed.contains(channel) {
                self.confirmed.insert(channel.clone());
                if self.desired.contains(channel) {
                    ok.push(channel.clone());
                } else {
                    unwanted.push(channel.clone());
                }
            } else if self.desired.remove(channel) {
                refused.push(channel.clone());
            }
        }
        (ok, refused, unwanted)
    }

    /// A subscribe failed as a whole: its channels leave the desired set (not retried blindly).
    pub(crate) fn on_subscribe_failed(&mut self, requested: &[String]) -> Vec<String> {
        requested
            .iter()
            .filter(|c| {
                self.requested.remove(*c);
                self.desired.remove(*c)
            })
            .cloned()
            .collect()
    }

    /// A subscribe got no answer: its channels may be requested again.
    pub(crate) fn on_subscribe_unanswered(&mut self, requested: &[String]) {
        for c in requested {
            self.requested.remove(c);
        }
    }

    /// The server ended these subscriptions.
    pub(crate) fn on_unsubscribed(&mut self, channels: &[String]) {
        for c in channels {
            self.confirmed.remove(c);
        }
    }

    /// The connection is gone: the server forgot everything.
    pub(crate) fn on_connection_lost(&mut self) {
        self.confirmed.clear();
        self.requested.clear();
    }

    pub(crate) fn desired(&self) -> &BTreeSet<String> {
        &self.desired
    }

    pub(crate) fn confirmed(&self) -> &BTreeSet<String> {
        &self.confirmed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn partial_confirmation_drops_the_refused_channels() {
        let mut s = Channels::default();
        s.want(&v(&["a", "b", "c"]));
        assert_eq!(s.take_unrequested(), v(&["a", "b", "c"]));
        assert!(s.take_unrequested().is_empty(), "requested once");
        let (ok, refused, unwanted) = s.on_subscribed(&v(&["a", "b", "c"]), &v(&["a", "c"]));
        assert_eq!((ok, refused, unwanted), (v(&["a", "c"]), v(&["b"]), vec![]));
        assert_eq!(s.desired(), s.confirmed());
    }

    #[test]
    fn a_loss_forgets_confirmations_but_keeps_the_wish() {
        let mut s = Channels::default();
        s.want(&v(&["a"]));
        s.take_unrequested();
        s.on_subscribed(&v(&["a"]), &v(&["a"]));
        s.on_connection_lost();
        assert!(s.confirmed().is_empty());
        assert_eq!(s.take_unrequested(), v(&["a"]));
    }

    #[test]
    fn unsubscribing_while_the_subscribe_is_in_flight_unsubscribes_on_confirmation() {
        let mut s = Channels::default();
        s.want(&v(&["a"]));
        s.take_unrequested();
        assert!(s.unwant(&v(&["a"])).is_empty(), "not confirmed yet");
        let (ok, refused, unwanted) = s.on_subscribed(&v(&["a"]), &v(&["a"]));
        assert!(ok.is_empty() && refused.is_empty());
        assert_eq!(unwanted, v(&["a"]));
    }
}
