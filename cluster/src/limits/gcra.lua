-- GCRA (generic cell rate algorithm) for one key, evaluated atomically.
-- KEYS[1]: the limit's key; its value is the theoretical arrival time (TAT)
--          in microseconds of Redis server time.
-- ARGV[1]: emission interval T, microseconds per permit (may be fractional).
-- ARGV[2]: burst tolerance, microseconds: capacity * T.
-- ARGV[3]: at_least: fewer permits than this are not worth granting.
-- ARGV[4]: wanted: the most permits to grant.
-- ARGV[5]: '1' when the caller is recovering from an outage: a missing key
--          may have been lost by a Redis restart, so it counts as an empty
--          bucket (spent), not a full one.
-- ARGV[6]: reserve, microseconds: when at_least do not fit now but will
--          within this, they are reserved (the caller waits, then uses
--          them), so callers are served in the order they asked.
-- Returns {granted, wait_us}: granted > 0 and wait 0 (use them now);
-- granted = at_least and wait > 0 (reserved: use them after wait); or
-- granted 0 and the wait until at_least fit (-1: never, at_least exceeds
-- the burst).
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local at_least = math.max(tonumber(ARGV[3]), 1)
local wanted = math.max(tonumber(ARGV[4]), at_least)
if at_least * interval > tolerance then
  return {0, -1}
end
local stored = redis.call('GET', KEYS[1])
local tat = now
if stored then
  tat = tonumber(stored)
elseif ARGV[5] == '1' then
  tat = now + tolerance
end
if tat < now then
  tat = now
end
-- The most permits k with tat + k * T - now <= tolerance.
local room = math.floor((now + tolerance - tat) / interval)
local granted = math.min(wanted, room)
local wait = 0
if granted < at_least then
  wait = math.ceil(tat + at_least * interval - tolerance - now)
  if wait > tonumber(ARGV[6]) then
    return {0, wait}
  end
  granted = at_least
end
local new_tat = tat + granted * interval
local ttl_ms = math.ceil((new_tat - now) / 1000) + 1
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', ttl_ms)
return {granted, wait}
