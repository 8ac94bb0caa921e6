-- ix_compact.lua: retention. Deletes up to ARGV[4] incidents resolved before ARGV[3], with every
-- per-incident key, and trims them from the indexes. Daily aggregates (what /stats reads) are kept.
-- KEYS[1]: routing key only (names derive from the prefix, which carries the hash tag on Cluster)
-- ARGV[1] prefix  ARGV[2] now (ms)  ARGV[3] cutoff (ms, resolved_at < cutoff)  ARGV[4] batch size
-- Returns the number of incidents deleted
local P = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', P .. 'incs:rt', '-inf', '(' .. ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
local n = 0
for _, id in ipairs(ids) do
  local ik = P .. 'inc:{' .. id .. '}'
  local h = redis.call('HMGET', ik, 'state', 'ix')
  redis.call('ZREM', P .. 'incs:rt', id)
  if h[1] == 'resolved' or not h[1] then
    for _, k in ipairs({ 'incs:st:resolved', 'incs:opensev', 'incs:silenced' }) do
      redis.call('ZREM', P .. k, id)
    end
    redis.call('DEL', ik, ik .. ':alerts', ik .. ':tl', ik .. ':msgs', ik .. ':checklist', ik .. ':firing', ik .. ':tm', ik .. ':pend')
    n = n + 1
  end
end
return n
