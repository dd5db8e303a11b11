/**
 * The Lua of the shared token bucket and byte budget, run atomically inside Redis so that any number of workers
 * on any number of machines draw from one bucket (and one byte schedule) per host. Time is Redis's own (`TIME`), never a worker's clock:
 * machines whose clocks disagree still share one rate. Lua numbers are doubles; a reply is truncated to
 * an integer by Redis, which is why waits are rounded up before they are returned.
 */

/**
 * KEYS[1] the bucket (hash: `tokens`, `at`), KEYS[2] the host's cooldown (epoch ms, on Redis's clock).
 * ARGV[1] requests per second (`0`: no rate, only the cooldown), ARGV[2] burst, ARGV[3] fewest tokens
 * worth taking, ARGV[4] most tokens wanted. One call serves every waiter of a process at once: it takes
 * as many whole tokens as are there, up to the most wanted, if at least the fewest are.
 * Returns `{taken, waitMs, cooling}`: with `taken` 0, how long to wait before asking again, and `1` when
 * the wait is the host's cooldown rather than the rate.
 */
export const TAKE_TOKENS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local coolUntil = tonumber(redis.call('GET', KEYS[2]) or '0')
if coolUntil > now then return {0, coolUntil - now, 1} end
local rate = tonumber(ARGV[1])
local fewest = tonumber(ARGV[3])
local most = tonumber(ARGV[4])
if rate == 0 then return {most, 0, 0} end
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local taken = 0
local wait = 0
if tokens >= fewest then
  taken = math.min(most, math.floor(tokens))
  tokens = tokens - taken
else
  wait = math.ceil((fewest - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
-- A full bucket is the same as no bucket: an idle host's key expires instead of staying forever.
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {taken, wait, 0}
`;

/**
 * KEYS[1] the host's cooldown. ARGV[1] milliseconds from now. A later deadline extends the pause; an
 * earlier one never shortens it. Returns the milliseconds left of the pause now in force.
 */
export const COOL_DOWN = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ms = math.ceil(tonumber(ARGV[1]))
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if now + ms > current then
  redis.call('SET', KEYS[1], tostring(now + ms), 'PX', ms)
  return ms
end
return current - now
`;

/**
 * The shared byte budget. KEYS[1] the whole queue's schedule, KEYS[2] the host's: each a string, the epoch ms
 * (Redis's clock) at which the bytes leased so far are paid for at its rate (GCRA, as the in-process
 * `SmoothBandwidthLimiter` keeps it). ARGV[1] bytes per second of KEYS[1], ARGV[2] of KEYS[2] (`0`: that
 * schedule is not touched), ARGV[3] the bytes leased, ARGV[4] how far ahead of its rate a schedule may run, in ms.
 * A lease is always granted, and moves both schedules on: the reply is how many ms to wait before using it.
 * So leases of all processes are paid for in the order they reached Redis, and a process never has to ask
 * twice for one. A schedule in the past is the same as none, hence the key expires once it has passed.
 * The schedule is stored with `%.17g`: `tostring` keeps 14 digits, which of an epoch in ms is a tenth of a ms.
 */
export const LEASE_BYTES = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local bytes = tonumber(ARGV[3])
local ahead = tonumber(ARGV[4])
local wait = 0
for i = 1, 2 do
  local rate = tonumber(ARGV[i])
  if rate > 0 then
    local due = math.max(tonumber(redis.call('GET', KEYS[i]) or '0'), now) + bytes * 1000 / rate
    redis.call('SET', KEYS[i], string.format('%.17g', due), 'PX', math.ceil(due - now) + 1000)
    wait = math.max(wait, due - ahead - now)
  end
end
return math.ceil(wait)
`;
