-- incident_upsert.lua: fold one alert into its incident, creating the incident when needed,
-- and queue the chat messages that show it; all in one atomic step.
-- KEYS[1]: routing key only (names derive from the prefix, which carries the hash tag on Cluster)
-- ARGV[1] prefix  ARGV[2] now (ms)  ARGV[3] dedup key  ARGV[4] alert fingerprint
-- ARGV[5] status firing|resolved  ARGV[6] acknowledge flag 1|0  ARGV[7] alert JSON
-- ARGV[8] JSON of incident fields for a new incident (title, severity, chats[], image, ...)
-- ARGV[9] notify flag 1|0 (0 while silenced or in maintenance: recorded, not posted)
-- ARGV[10] JSON { hset = {field=value}, timers = [{id, due, data}], dms = [chat] } for a new incident; `%ID%` stands for its id
-- Returns { incident id or '', outcome } with outcome created|updated|acknowledged|resolved|unchanged|ignored
local P = ARGV[1]
local now = tonumber(ARGV[2])
local dedup, fp, status, ack = ARGV[3], ARGV[4], ARGV[5], ARGV[6] == '1'
local alert = ARGV[7]
local notify = ARGV[9] == '1'
local dkey = P .. 'dedup:' .. dedup
local id = redis.call('GET', dkey)
if id then
  local st = redis.call('HGET', P .. 'inc:{' .. id .. '}', 'state')
  if (not st) or st == 'resolved' then id = false end
end

if not id then
  if status == 'resolved' or ack then return { '', 'ignored' } end
  local f = cjson.decode(ARGV[8])
  local n = redis.call('INCR', P .. 'inc:seq')
  id = 'INC-' .. n
  local ik = P .. 'inc:{' .. id .. '}'
  redis.call('HSET', ik, 'id', id, 'seq', n, 'state', 'triggered', 'severity', f.severity, 'title', f.title,
    'description', f.description or '', 'source', f.source, 'integration', f.integration or '',
    'dedup', dedup, 'chats', cjson.encode(f.chats), 'labels', cjson.encode(f.labels),
    'links', cjson.encode(f.links), 'created_at', now, 'updated_at', now, 'alert_count', 1, 'firing_count', 1,
    'level', 0, 'loop', 0, 'silenced', notify and 0 or 1, 'started_at', f.started_at or now)
  if f.image and f.image ~= '' then redis.call('HSET', ik, 'image', f.image) end
  redis.call('HSET', ik .. ':alerts', fp, alert)
  redis.call('SADD', ik .. ':firing', fp)
  redis.call('SET', dkey, id)
  redis.call('ZADD', P .. 'incs:open', now, id)
  redis.call('ZADD', P .. 'incs:all', now, id)
  tl_push(P, id, { t = now, type = 'triggered', actor = f.source, text = f.title })
  local extra = cjson.decode(ARGV[10] or '{}')
  if type(extra.hset) == 'table' then
    for field, v in pairs(extra.hset) do
      redis.call('HSET', ik, field, (string.gsub(tostring(v), '%%ID%%', id)))
    end
  end
  if type(extra.timers) == 'table' then
    for _, tm in ipairs(extra.timers) do
      local tid = (string.gsub(tm.id, '%%ID%%', id))
      redis.call('ZADD', P .. 'tm:due', 'NX', tm.due, tid)
      redis.call('SET', P .. 'tm:data:' .. tid, (string.gsub(cjson.encode(tm.data), '%%ID%%', id)))
      ix_track_timer(P, tid, { kind = tm.data.kind, inc = id }) -- [ix] cancelled on resolution
    end
  end
  if notify then
    for _, c in ipairs(f.chats) do
      ob_push(P, now, c, 'sync', { inc = id }, 'sync:' .. id, true)
    end
    -- private chats of people who asked for new incidents of this severity
    if type(extra.dms) == 'table' then
      for _, c in ipairs(extra.dms) do
        ob_push(P, now, c, 'sync', { inc = id }, 'sync:' .. id, true)
      end
    end
  end
  -- [ix] counters, state indexes, aggregates (common.lua)
  ix_apply(P, id, nil)
  ix_noise(P, id, 1)
  return { id, 'created' }
end

local ik = P .. 'inc:{' .. id .. '}'
local ix_before = ix_snap(P, id) -- [ix]
local known = redis.call('HEXISTS', ik .. ':alerts', fp) == 1
local wasFiring = redis.call('SISMEMBER', ik .. ':firing', fp) == 1
redis.call('HSET', ik .. ':alerts', fp, alert)
if status == 'firing' then redis.call('SADD', ik .. ':firing', fp) else redis.call('SREM', ik .. ':firing', fp) end
local firing = redis.call('SCARD', ik .. ':firing')
redis.call('HSET', ik, 'alert_count', redis.call('HLEN', ik .. ':alerts'), 'firing_count', firing, 'updated_at', now)
local source = redis.call('HGET', ik, 'source')
local outcome = 'unchanged'
if firing == 0 then
  redis.call('HSET', ik, 'state', 'resolved', 'resolved_at', now, 'resolved_by', source)
  redis.call('ZREM', P .. 'incs:open', id)
  redis.call('DEL', dkey)
  tl_push(P, id, { t = now, type = 'resolved', actor = source, text = 'all alerts resolved' })
  outcome = 'resolved'
  local sev = redis.call('HGET', ik, 'severity')
  local chats = cjson.decode(redis.call('HGET', ik, 'chats') or '[]')
  if (sev == 'P0' or sev == 'P1') and chats[1] then
    -- the post-emergency checklist (seed 001) follows the resolution of a P0/P1
    ob_push(P, now, chats[1], 'checklist', { inc = id }, 'checklist:' .. id, false)
  end
elseif ack and redis.call('HGET', ik, 'state') == 'triggered' then
  redis.call('HSET', ik, 'state', 'acknowledged', 'ack_at', now, 'ack_by', source)
  tl_push(P, id, { t = now, type = 'acknowledged', actor = source })
  outcome = 'acknowledged'
elseif not known then
  tl_push(P, id, { t = now, type = 'alert_added', actor = source, text = fp })
  ix_noise(P, id, 1) -- [ix]
  outcome = 'updated'
elseif wasFiring and status == 'resolved' then
  tl_push(P, id, { t = now, type = 'alert_resolved', actor = source, text = fp })
  outcome = 'updated'
elseif (not wasFiring) and status == 'firing' then
  tl_push(P, id, { t = now, type = 'alert_refired', actor = source, text = fp })
  ix_noise(P, id, 1) -- [ix]
  outcome = 'updated'
end
if outcome ~= 'unchanged' and redis.call('HGET', ik, 'silenced') ~= '1' then
  sync_chats(P, now, id, cjson.decode(redis.call('HGET', ik, 'chats') or '[]'))
end
ix_apply(P, id, ix_before) -- [ix]
return { id, outcome }
