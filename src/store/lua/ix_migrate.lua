-- ix_migrate.lua: count incidents stored before the counters existed (start-up migration, one batch).
-- Brings each uncounted incident (no ix=1) into the state indexes, counters and daily aggregates, and
-- rebuilds its noisy-alert and responder entries from its timeline. Counted incidents are skipped, so
-- a batch seen twice (ZSCAN may repeat) or a migration cut short and restarted counts nothing twice.
-- KEYS: the keys declared for this script in scripts.ts, read by name (S.<name>); other keys from K
-- ARGV[1] prefix  ARGV[2] now (ms)  ARGV[3..] incident ids
-- Returns the number of incidents counted by this batch
local done = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local h = redis.call('HMGET', K.incident(id), 'state', 'ix')
  if h[1] and h[2] ~= '1' then
    ix_apply(id, nil)
    local alerts = 1
    for _, raw in ipairs(redis.call('LRANGE', K.timeline(id), 0, -1)) do
      local ok, e = pcall(cjson.decode, raw)
      if ok and type(e) == 'table' then
        if e.type == 'alert_added' or e.type == 'alert_refired' then alerts = alerts + 1 end
        ix_actor(id, e)
      end
    end
    ix_noise(id, alerts)
    done = done + 1
  end
end
return done
