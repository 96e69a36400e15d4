//! The Lua scripts behind leases. Redis runs a script atomically (no other
//! command interleaves), which is what makes claim-and-number, renew-if-mine
//! and delete-if-mine safe.

use std::sync::LazyLock;

use redis::Script;

/// KEYS: owner, token. ARGV: node id, lease ms.
/// Returns the new fencing token, or 0 when the shard is held.
pub(crate) static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token, 'PX', ARGV[2])
return token
",
    )
});

/// KEYS: owner. ARGV: fence, lease ms.
/// Returns 1 when renewed, 0 when the lease is gone, -1 when another holds it.
pub(crate) static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if held then return -1 end
return 0
",
    )
});

/// KEYS: owner. ARGV: fence. Deletes the lease only if it is still ours.
pub(crate) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
",
    )
});

/// KEYS: nodes. ARGV: node id, ttl ms.
/// Refreshes this node's heartbeat, forgets expired ones (by Redis's clock,
/// so nodes' clocks need not agree), returns the number of live nodes.
pub(crate) static HEARTBEAT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
",
    )
});
