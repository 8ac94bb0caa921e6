-- timer_claim.lua: hand due timers to exactly one caller. A claimed timer sits in the in-flight set
-- with a lease; if its worker dies, the lease runs out and the timer becomes due again. Firing itself
-- is guarded by a once-marker (apply_effects.lua), so a re-claimed timer never acts twice.
-- KEYS: the keys declared for this script in scripts.ts, read by name (S.<name>); other keys from K
-- ARGV[1] prefix ARGV[2] now ARGV[3] lease ms ARGV[4] max timers
-- Returns a flat array: id1, data1, id2, data2, ... ; then the ms until the next due timer (or -1) last
local now = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local max = tonumber(ARGV[4])
local back = redis.call('ZRANGEBYSCORE', S.timerInflight, '-inf', now, 'LIMIT', 0, 100)
for _, id in ipairs(back) do
  redis.call('ZREM', S.timerInflight, id)
  redis.call('ZADD', S.timers, now, id)
end
local out = {}
local due = redis.call('ZRANGEBYSCORE', S.timers, '-inf', now, 'LIMIT', 0, max)
for _, id in ipairs(due) do
  redis.call('ZREM', S.timers, id)
  local data = redis.call('GET', K.timerData(id))
  if data then
    redis.call('ZADD', S.timerInflight, now + lease, id)
    table.insert(out, id)
    table.insert(out, data)
  end
end
local nxt = redis.call('ZRANGE', S.timers, 0, 0, 'WITHSCORES')
if #nxt == 0 then table.insert(out, '-1') else table.insert(out, tostring(math.max(0, tonumber(nxt[2]) - now))) end
return out
