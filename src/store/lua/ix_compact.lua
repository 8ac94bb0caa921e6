-- ix_compact.lua: retention. Deletes up to ARGV[4] incidents resolved before ARGV[3], with every
-- per-incident key, and trims them from the indexes. Daily aggregates (what /stats reads) are kept.
-- KEYS: the keys declared for this script in scripts.ts, read by name (S.<name>); other keys from K
-- ARGV[1] prefix  ARGV[2] now (ms)  ARGV[3] cutoff (ms, resolved_at < cutoff)  ARGV[4] batch size
-- Returns the number of incidents deleted
local ids = redis.call('ZRANGEBYSCORE', S.resolvedAt, '-inf', '(' .. ARGV[3], 'LIMIT', 0, tonumber(ARGV[4]))
local n = 0
for _, id in ipairs(ids) do
  local h = redis.call('HMGET', K.incident(id), 'state', 'ix')
  redis.call('ZREM', S.resolvedAt, id)
  if h[1] == 'resolved' or not h[1] then
    for _, k in ipairs({ K.stateIndex('resolved'), S.openBySeverity, S.silencedIndex }) do
      redis.call('ZREM', k, id)
    end
    redis.call('DEL', K.incident(id), K.alerts(id), K.timeline(id), K.messages(id), K.checklist(id),
      K.firing(id), K.incidentTimers(id), K.pendingCards(id))
    n = n + 1
  end
end
return n
