//! What happens when an event consumer falls behind, and how many events
//! its queue holds first.

/// Events a consumer's queue holds before its [`LagPolicy`] applies.
pub const DEFAULT_EVENT_CAPACITY: usize = 1024;

/// What happens when an event consumer falls behind.
///
/// ```
/// use wsnova_core::driver::LagPolicy;
/// assert_eq!(LagPolicy::default(), LagPolicy::Backpressure);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LagPolicy {
    /// Stop reading the socket until every consumer has room again: TCP
    /// pushes back on the server and nothing is lost. The default.
    #[default]
    Backpressure,
    /// Keep reading; drop the consumer's oldest notifications and messages
    /// and tell it with `Event::Lagged { dropped }` (for market data, where
    /// fresh beats complete). Lifecycle events and request outcomes are
    /// never dropped.
    DropOldest,
}
