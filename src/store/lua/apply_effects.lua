-- apply_effects.lua: apply a described multi-key change atomically, only if its guards still hold.
-- Used for every incident state change, timer firing and approval step, so that a check and the
-- change it allows can never interleave with another replica's.
-- KEYS: the keys declared for this script in scripts.ts, read by name (S.<name>); other keys from K
-- ARGV[1] prefix  ARGV[2] now (ms)  ARGV[3] JSON plan:
--   once?        timer id: fire at most once (a marker kept 7 days); a repeat returns 'dup'
--   release?     timer id: remove it from the in-flight set and drop its data
--   guards[]     { key, field, eq? , ne?, missing? }  all must hold, else 'stale' (once/release still apply)
--   hset[]       { key, field, value }          hdel[] { key, field }
--   timeline[]   { inc, entry }                 sync[] { inc, extra? }  re-render the incident's messages
--   outbox[]     { chat, kind, data, coalesce?, new? }
--   timers[]     { id, due, data }              cancel[] timer ids
--   zadd[] { key, score, member }  zrem[] { key, member }  del[] keys  incr[] {key, by}
--   read?        a hash key: on success, its fields come back too (the caller's state after the change)
-- Returns 'ok' | 'stale' | 'dup'; with read, success is { 'ok', flat HGETALL of read }
local now = tonumber(ARGV[2])
local plan = cjson.decode(ARGV[3])

local function release()
  if plan.release then
    redis.call('ZREM', S.timerInflight, plan.release)
    redis.call('DEL', K.timerData(plan.release))
  end
end

if plan.once then
  local ok = redis.call('SET', K.timerFired(plan.once), now, 'NX', 'EX', 604800)
  if not ok then release() return 'dup' end
end

for _, g in ipairs(plan.guards or {}) do
  local v = redis.call('HGET', g.key, g.field)
  local pass = true
  if g.missing then pass = (v == false) end
  if g.eq ~= nil and v ~= g.eq then pass = false end
  if g.ne ~= nil and v == g.ne then pass = false end
  if g.exists and v == false then pass = false end
  if not pass then release() return 'stale' end
end

-- [ix] snapshot every incident this plan changes, to bring counters and indexes along (common.lua)
local ix_touched, ix_order = {}, {}
for _, h in ipairs(plan.hset or {}) do
  local ixid = ix_incident_of(h.key)
  if ixid and ix_touched[ixid] == nil then ix_touched[ixid] = ix_snap(ixid) or false table.insert(ix_order, ixid) end
end
for _, h in ipairs(plan.hdel or {}) do
  local ixid = ix_incident_of(h.key)
  if ixid and ix_touched[ixid] == nil then ix_touched[ixid] = ix_snap(ixid) or false table.insert(ix_order, ixid) end
end
-- [/ix]
for _, h in ipairs(plan.hset or {}) do redis.call('HSET', h.key, h.field, h.value) end
for _, h in ipairs(plan.hdel or {}) do redis.call('HDEL', h.key, h.field) end
for _, z in ipairs(plan.zadd or {}) do redis.call('ZADD', z.key, z.score, z.member) end
for _, z in ipairs(plan.zrem or {}) do redis.call('ZREM', z.key, z.member) end
for _, k in ipairs(plan.del or {}) do redis.call('DEL', k) end
for _, c in ipairs(plan.incr or {}) do redis.call('INCRBY', c.key, c.by or 1) end
for _, t in ipairs(plan.timeline or {}) do tl_push(t.inc, t.entry) end
for _, t in ipairs(plan.timeline or {}) do ix_actor(t.inc, t.entry) end -- [ix]
for _, id in ipairs(plan.cancel or {}) do
  redis.call('ZREM', S.timers, id)
  redis.call('DEL', K.timerData(id))
end
for _, t in ipairs(plan.timers or {}) do
  if redis.call('EXISTS', K.timerFired(t.id)) == 0 then
    redis.call('ZADD', S.timers, 'NX', t.due, t.id)
    redis.call('SET', K.timerData(t.id), cjson.encode(t.data))
    ix_track_timer(t.id, t.data) -- [ix]
  end
end
-- [ix] counters, indexes and aggregates follow the change; a resolution cancels the incident's timers
for _, ixid in ipairs(ix_order) do ix_apply(ixid, ix_touched[ixid] or nil) end
for _, o in ipairs(plan.outbox or {}) do
  ob_push(now, o.chat, o.kind, o.data, o.coalesce or '', o.new == true)
end
for _, s in ipairs(plan.sync or {}) do sync_chats(now, s.inc, s.extra) end
release()
if plan.read then return { 'ok', redis.call('HGETALL', plan.read) } end
return 'ok'
