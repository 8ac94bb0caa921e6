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
if #back > 0 then
  local zargs = {}
  for _, id in ipairs(back) do
    zargs[#zargs + 1] = now
    zargs[#zargs + 1] = id
  end
  redis.call('ZREM', S.timerInflight, unpack(back))
  redis.call('ZADD', S.timers, unpack(zargs))
end
local out = {}
local due = redis.call('ZRANGEBYSCORE', S.timers, '-inf', now, 'LIMIT', 0, max)
-- a few commands per chunk of timers, not three per timer
for i = 1, #due, 200 do
  local ids, dkeys = {}, {}
  for j = i, math.min(i + 199, #due) do
    ids[#ids + 1] = due[j]
    dkeys[#dkeys + 1] = K.timerData(due[j])
  end
  redis.call('ZREM', S.timers, unpack(ids))
  local datas = redis.call('MGET', unpack(dkeys))
  local zargs = {}
  for j, id in ipairs(ids) do
    local data = datas[j]
    if data then
      zargs[#zargs + 1] = now + lease
      zargs[#zargs + 1] = id
      out[#out + 1] = id
      out[#out + 1] = data
    end
  end
  if #zargs > 0 then redis.call('ZADD', S.timerInflight, unpack(zargs)) end
end
local nxt = redis.call('ZRANGE', S.timers, 0, 0, 'WITHSCORES')
if #nxt == 0 then table.insert(out, '-1') else table.insert(out, tostring(math.max(0, tonumber(nxt[2]) - now))) end
return out
