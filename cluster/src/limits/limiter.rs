//! The shared limiter: permits from Redis (GCRA in one Lua script, on Redis
//! server time), or from a conservative local share while Redis cannot be
//! reached.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::key::LimitKey;
use super::share::{LocalShare, Quota};

/// The GCRA script: one round trip, atomic, on Redis's clock.
const GCRA: &str = include_str!("gcra.lua");

/// How the limiter behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimiterConfig {
    /// How many nodes share the quotas: while Redis cannot be reached, each
    /// node grants at most `1 / nodes` of a quota (its burst and its rate).
    pub nodes: u32,
    /// The longest a Redis call may take before it counts as unreachable.
    pub redis_timeout: Duration,
    /// While Redis is unreachable, how often a call tries it again (the
    /// others use the local share at once).
    pub probe_interval: Duration,
    /// Permits that do not fit now but will within this are reserved in
    /// Redis and granted with [`Grant::usable_after`]: callers are served
    /// in the order they ask (no node starves another). Zero: never.
    pub reserve: Duration,
}

impl Default for LimiterConfig {
    /// One node, 250 ms timeout, probe every 250 ms, reserve up to 100 ms.
    fn default() -> Self {
        LimiterConfig {
            nodes: 1,
            redis_timeout: Duration::from_millis(250),
            probe_interval: Duration::from_millis(250),
            reserve: Duration::from_millis(100),
        }
    }
}

/// Where a grant came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Redis's shared GCRA.
    Redis,
    /// The local share: Redis could not be reached.
    LocalShare,
}

/// The answer to [`SharedLimiter::acquire`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// Permits granted (0: none now).
    pub granted: u64,
    /// With nothing granted, how long until `at_least` permits fit
    /// (`Duration::MAX`: never, they exceed the burst); zero otherwise.
    pub retry_after: Duration,
    /// When granted ones were reserved: use them only after this long
    /// (zero: now).
    pub usable_after: Duration,
    /// Who decided.
    pub source: Source,
}

/// The limiter's view of Redis and the local shares, per key.
#[derive(Debug, Default)]
struct State {
    /// Redis failed its last call; until `next_probe` calls go local.
    down: bool,
    next_probe: Option<Instant>,
    keys: HashMap<String, KeyState>,
}

#[derive(Debug, Default)]
struct KeyState {
    /// The local share in use (fallback, or the cooldown after it).
    share: Option<LocalShare>,
    /// After Redis came back, grants also come out of the local share
    /// until then (Redis may have forgotten what was spent meanwhile).
    cooldown_until: Option<Instant>,
}

/// Shared quotas on Redis, with a local fallback. Cheap to share
/// (`Arc<SharedLimiter>`); calls run concurrently.
///
/// ```no_run
/// # async fn demo() -> Result<(), redis::RedisError> {
/// use std::time::Duration;
/// use wsnova_cluster::limits::{LimitKey, LimiterConfig, Quota, Scope, SharedLimiter};
/// use wsnova_core::session::RateClass;
/// let config = LimiterConfig { nodes: 3, ..LimiterConfig::default() };
/// let limiter = SharedLimiter::new("redis://127.0.0.1:6379/", config)?;
/// let key = LimitKey::new("deribit", Scope::Account("alice".into()), RateClass::DEFAULT);
/// let quota = Quota::new(50_000, 10_000, Duration::from_secs(1)).expect("refills");
/// let grant = limiter.acquire(&key, quota, 500, 5_000).await;
/// println!("{} permits from {:?}", grant.granted, grant.source);
/// # Ok(()) }
/// ```
pub struct SharedLimiter {
    conn: ConnectionManager,
    script: Script,
    config: LimiterConfig,
    state: Mutex<State>,
    /// Permits granted by Redis, and by the local share.
    from_redis: AtomicU64,
    from_share: AtomicU64,
}

impl std::fmt::Debug for SharedLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedLimiter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SharedLimiter {
    /// A limiter on the Redis at `url` (connected lazily, reconnected
    /// automatically). Must be called inside a tokio runtime. Fails only on
    /// a malformed URL: an unreachable Redis means the local share.
    pub fn new(url: &str, config: LimiterConfig) -> redis::RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.redis_timeout))
            .set_response_timeout(Some(config.redis_timeout))
            .set_number_of_retries(1)
            .set_max_delay(config.probe_interval);
        Ok(SharedLimiter {
            conn: ConnectionManager::new_lazy_with_config(client, manager)?,
            script: Script::new(GCRA),
            config,
            state: Mutex::new(State::default()),
            from_redis: AtomicU64::new(0),
            from_share: AtomicU64::new(0),
        })
    }

    /// Its configuration.
    pub fn config(&self) -> &LimiterConfig {
        &self.config
    }

    /// Permits granted so far by `source`.
    pub fn granted_by(&self, source: Source) -> u64 {
        match source {
            Source::Redis => self.from_redis.load(Ordering::Relaxed),
            Source::LocalShare => self.from_share.load(Ordering::Relaxed),
        }
    }

    /// Whether the last call found Redis unreachable.
    pub fn redis_down(&self) -> bool {
        self.lock().down
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Asks for between `at_least` (at least 1) and `wanted` permits of
    /// `key`'s `quota`: all nodes using the same key and quota together
    /// never exceed it while Redis answers; each stays within its local
    /// share while it does not. Never fails and never waits longer than
    /// the configured Redis timeout.
    pub async fn acquire(&self, key: &LimitKey, quota: Quota, at_least: u64, wanted: u64) -> Grant {
        let grant = self.decide(key, quota, at_least, wanted).await;
        let counter = match grant.source {
            Source::Redis => &self.from_redis,
            Source::LocalShare => &self.from_share,
        };
        counter.fetch_add(grant.granted, Ordering::Relaxed);
        grant
    }

    async fn decide(&self, key: &LimitKey, quota: Quota, at_least: u64, wanted: u64) -> Grant {
        let at_least = at_least.max(1);
        let mut wanted = wanted.max(at_least);
        let now = Instant::now();
        let recovering;
        {
            let mut state = self.lock();
            if state.down && state.next_probe.is_some_and(|at| now < at) {
                return self.local(&mut state, key, quota, now, at_least, wanted);
            }
            // Probing after an outage, or cooling down after it: Redis
            // grants no more than the local share still allows.
            let probing = state.down;
            let keyed = state.keys.entry(key.as_str().to_owned()).or_default();
            recovering = probing || keyed.cooldown_until.is_some_and(|until| now < until);
            if recovering && let Some(share) = keyed.share.as_ref() {
                let room = share.room(now);
                if room < at_least {
                    let mut probe = share.clone();
                    let wait = probe.take(now, at_least, at_least).err();
                    return Grant {
                        granted: 0,
                        retry_after: wait.unwrap_or_default(),
                        usable_after: Duration::ZERO,
                        source: Source::Redis,
                    };
                }
                wanted = wanted.min(room);
            }
        }
        let mut conn = self.conn.clone();
        let mut invocation = self.script.key(key.as_str());
        invocation
            .arg(quota.emission_us())
            .arg(quota.tolerance_us())
            .arg(at_least)
            .arg(wanted)
            .arg(if recovering { "1" } else { "0" })
            .arg(self.config.reserve.as_micros().min(u128::from(u32::MAX)) as u64);
        let answer = tokio::time::timeout(
            self.config.redis_timeout,
            invocation.invoke_async::<(i64, i64)>(&mut conn),
        )
        .await;
        let now = Instant::now();
        let mut state = self.lock();
        match answer {
            Ok(Ok((granted, retry_us))) => Self::answered(
                &mut state,
                key,
                now,
                granted,
                retry_us,
                self.config.probe_interval,
            ),
            Ok(Err(error)) => {
                self.unreachable(&mut state, now, &error.to_string());
                self.local(&mut state, key, quota, now, at_least, wanted)
            }
            Err(_) => {
                self.unreachable(&mut state, now, "timed out");
                self.local(&mut state, key, quota, now, at_least, wanted)
            }
        }
    }

    /// Redis answered: leave the fallback (cooling down every key that
    /// used its share), and charge the share while cooling down.
    fn answered(
        state: &mut State,
        key: &LimitKey,
        now: Instant,
        granted: i64,
        retry_us: i64,
        probe_interval: Duration,
    ) -> Grant {
        if state.down {
            tracing::info!("redis reachable again: shared rate limits resume, cooling down");
            state.down = false;
            state.next_probe = None;
            for keyed in state.keys.values_mut() {
                if let Some(share) = keyed.share.as_ref() {
                    // Long enough for the other nodes to notice too, and
                    // for a whole burst to be accounted in Redis again.
                    let refill = Duration::from_secs_f64(share.quota().tolerance_us() / 1e6);
                    let cooldown = refill + 2 * probe_interval;
                    keyed.cooldown_until = Some(now + cooldown);
                }
            }
        }
        let granted = u64::try_from(granted).unwrap_or(0);
        let keyed = state.keys.entry(key.as_str().to_owned()).or_default();
        match keyed.cooldown_until {
            Some(until) if now < until => {
                if let Some(share) = keyed.share.as_mut()
                    && granted > 0
                {
                    // May fail if time moved on oddly; Redis's grant stands.
                    let _ = share.take(now, granted, granted);
                }
            }
            Some(_) => {
                keyed.cooldown_until = None;
                keyed.share = None;
            }
            None => {}
        }
        let wait = match retry_us {
            r if r < 0 => Duration::MAX,
            r => Duration::from_micros(r.unsigned_abs()),
        };
        let (retry_after, usable_after) = if granted > 0 {
            (Duration::ZERO, wait)
        } else {
            (wait, Duration::ZERO)
        };
        Grant {
            granted,
            retry_after,
            usable_after,
            source: Source::Redis,
        }
    }

    /// Redis failed: go local until the next probe. A key entering the
    /// fallback starts with an empty share (no burst on top of what Redis
    /// may just have granted).
    fn unreachable(&self, state: &mut State, now: Instant, why: &str) {
        if !state.down {
            tracing::warn!(
                error = why,
                nodes = self.config.nodes,
                "redis unreachable: local share of each rate limit"
            );
            state.down = true;
            for keyed in state.keys.values_mut() {
                if keyed.cooldown_until.is_none_or(|until| now >= until) {
                    keyed.share = None;
                }
                keyed.cooldown_until = None;
            }
        }
        state.next_probe = Some(now + self.config.probe_interval);
    }

    /// Grants from the local share.
    fn local(
        &self,
        state: &mut State,
        key: &LimitKey,
        quota: Quota,
        now: Instant,
        at_least: u64,
        wanted: u64,
    ) -> Grant {
        let keyed = state.keys.entry(key.as_str().to_owned()).or_default();
        // Empty, and refilling only after the reserve window: Redis may
        // have sold that much of the future as reservations already.
        let reserved = now + self.config.reserve;
        let share = keyed
            .share
            .get_or_insert_with(|| LocalShare::empty(quota.share(self.config.nodes), reserved));
        match share.take(now, at_least, wanted) {
            Ok(granted) => Grant {
                granted,
                retry_after: Duration::ZERO,
                usable_after: Duration::ZERO,
                source: Source::LocalShare,
            },
            Err(wait) => Grant {
                granted: 0,
                retry_after: wait,
                usable_after: Duration::ZERO,
                source: Source::LocalShare,
            },
        }
    }
}
