//! Round-trip times over a sliding window: a fixed ring of the last samples,
//! with percentiles computed when asked (no allocation per sample).

use std::time::Duration;

/// Samples kept per window.
pub(crate) const WINDOW: usize = 256;

/// Percentiles of round-trip times over the last [`Latency::WINDOW`]
/// samples (kept with microsecond resolution).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Latency {
    /// Samples in the window (at most [`Latency::WINDOW`]).
    pub samples: usize,
    /// The median; `None` without samples.
    pub p50: Option<Duration>,
    /// The 99th percentile; `None` without samples.
    pub p99: Option<Duration>,
}

impl Latency {
    /// How many of the most recent samples the percentiles cover.
    pub const WINDOW: usize = WINDOW;
}

/// The last [`WINDOW`] samples, in microseconds (saturating at ~71 minutes).
/// Grows with its first samples and then stays put: a connection that never
/// measures a round trip holds no buffer for it.
#[derive(Clone, Default)]
pub(crate) struct Window {
    samples: Vec<u32>,
    /// Where the next sample goes once the window is full.
    next: usize,
}

impl std::fmt::Debug for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Window")
            .field("len", &self.samples.len())
            .finish()
    }
}

impl Window {
    /// Adds a sample, replacing the oldest once full.
    pub(crate) fn record(&mut self, sample: Duration) {
        let micros = u32::try_from(sample.as_micros()).unwrap_or(u32::MAX);
        if self.samples.len() < WINDOW {
            self.samples.push(micros);
        } else {
            self.samples[self.next] = micros;
            self.next = (self.next + 1) % WINDOW;
        }
    }

    /// p50 and p99 (nearest rank) of the samples in the window.
    pub(crate) fn summary(&self) -> Latency {
        let len = self.samples.len();
        if len == 0 {
            return Latency::default();
        }
        let mut sorted = [0u32; WINDOW]; // a copy on the stack
        let sorted = &mut sorted[..len];
        sorted.copy_from_slice(&self.samples);
        sorted.sort_unstable();
        let rank = |p: usize| {
            // Nearest rank: the smallest sample with at least p % at or below it.
            let index = (p * len).div_ceil(100).max(1) - 1;
            Duration::from_micros(u64::from(sorted[index]))
        };
        Latency {
            samples: len,
            p50: Some(rank(50)),
            p99: Some(rank(99)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_over_a_sliding_window() {
        let mut w = Window::default();
        assert_eq!(w.summary(), Latency::default());
        for ms in 1..=100 {
            w.record(Duration::from_millis(ms));
        }
        let s = w.summary();
        assert_eq!(s.samples, 100);
        assert_eq!(s.p50, Some(Duration::from_millis(50)));
        assert_eq!(s.p99, Some(Duration::from_millis(99)));
        // The window slides: old samples fall out.
        for _ in 0..WINDOW {
            w.record(Duration::from_millis(7));
        }
        let s = w.summary();
        assert_eq!(s.samples, WINDOW);
        assert_eq!(
            (s.p50, s.p99),
            (
                Some(Duration::from_millis(7)),
                Some(Duration::from_millis(7))
            )
        );
    }

    #[test]
    fn debug_shows_how_many_samples_not_the_samples() {
        let mut w = Window::default();
        for ms in [3, 5, 8] {
            w.record(Duration::from_millis(ms));
        }
        assert_eq!(format!("{w:?}"), "Window { len: 3 }");
    }

    #[test]
    fn an_unused_window_holds_no_buffer() {
        let w = Window::default();
        assert_eq!(w.samples.capacity(), 0);
    }

    #[test]
    fn one_sample_is_every_percentile() {
        let mut w = Window::default();
        w.record(Duration::from_micros(1500));
        let s = w.summary();
        assert_eq!(s.p50, Some(Duration::from_micros(1500)));
        assert_eq!(s.p99, Some(Duration::from_micros(1500)));
    }
}
