-- apply_effects.lua: apply described multi-key changes atomically, each only if its guards still hold.
-- Used for every incident state change, timer firing and approval step, so that a check and the
-- change it allows can never interleave with another replica's.
-- KEYS: the keys declared for this script in scripts.ts, read by name (S.<name>); other keys from K
-- ARGV[1] prefix  ARGV[2] now (ms)  ARGV[3] JSON plan, or '*' and then ARGV[4...] the plans of a batch:
--   once?        timer id: fire at most once (a marker kept 7 days); a repeat returns 'dup'
--   release?     timer id: remove it from the in-flight set and drop its data
--   guards[]     { key, field, eq? , ne?, missing? }  all must hold, else 'stale' (once/release still apply)
--   hset[]       { key, field, value }          hdel[] { key, field }
--   timeline[]   { inc, json, type, actor? }    (the entry as JSON, and the fields the counters read)
--   sync[] { inc, extra? }  re-render the incident's messages
--   outbox[]     { chat, kind, data, coalesce?, new? }
--   timers[]     { id, due, json, kind, inc? }  (the data as JSON, ditto)   cancel[] timer ids
--   zadd[] { key, score, member }  zrem[] { key, member }  del[] keys  incr[] {key, by}
--   read?        a hash key: on success, its fields come back too (the caller's state after the change)
-- Returns 'ok' | 'stale' | 'dup' for one plan (with read, success is { 'ok', flat HGETALL of read }). For a batch, a list of one of those per plan, in order: each plan
-- is checked against its own guards and applied in turn (a later plan sees what an earlier one
-- changed, as separate calls would), and a plan that fails with an error answers 'error' (what it
-- wrote before the error stays, as for one plan) while the others still apply.
local now = tonumber(ARGV[2])

local IX_FIELD_SET = {}
for _, f in ipairs(IX_FIELDS) do IX_FIELD_SET[f] = true end
-- the incident of a hash key, found once per key in a call (a batch names the same keys often)
local inc_of_memo = {}
local function inc_of(key)
  local v = inc_of_memo[key]
  if v == nil then
    v = ix_incident_of(key) or false
    inc_of_memo[key] = v
  end
  return v or nil
end

local function release(plan)
  if plan.release then
    redis.call('ZREM', S.timerInflight, plan.release)
    redis.call('DEL', K.timerData(plan.release))
  end
end

local function guards_hold(plan)
  local gs = plan.guards
  if not gs then return true end
  for _, g in ipairs(gs) do
    local v = redis.call('HGET', g.key, g.field)
    if g.missing and v ~= false then return false end
    if g.eq ~= nil and v ~= g.eq then return false end
    if g.ne ~= nil and v == g.ne then return false end
    if g.exists and v == false then return false end
  end
  return true
end

local function apply(plan)
  if plan.once then
    local ok = redis.call('SET', K.timerFired(plan.once), now, 'NX', 'EX', 604800)
    if not ok then release(plan) return 'dup' end
  end
  if not guards_hold(plan) then release(plan) return 'stale' end

  -- [ix] snapshot every incident this plan changes, to bring counters and indexes along (common.lua);
  -- one whose change leaves every counted field alone (an escalation step, who was paged) and that is
  -- counted already needs neither the snapshot nor the recount
  local ix_touched, ix_order = {}, {}
  local seen, seen_order = {}, {}
  local function note(key, field)
    local ixid = inc_of(key)
    if not ixid then return end
    if seen[ixid] == nil then seen[ixid] = false seen_order[#seen_order + 1] = ixid end
    if IX_FIELD_SET[field] then seen[ixid] = true end
  end
  for _, h in ipairs(plan.hset or {}) do note(h.key, h.field) end
  for _, h in ipairs(plan.hdel or {}) do note(h.key, h.field) end
  for _, ixid in ipairs(seen_order) do
    if seen[ixid] or redis.call('HGET', K.incident(ixid), 'ix') ~= '1' then
      ix_touched[ixid] = ix_snap(ixid) or false
      ix_order[#ix_order + 1] = ixid
    end
  end
  -- [/ix]
  -- one HSET per run of fields of the same key (a level sets several fields of its incident)
  local hs = plan.hset
  if hs then
    local i, n = 1, #hs
    while i <= n do
      local key, args = hs[i].key, {}
      while i <= n and hs[i].key == key do
        args[#args + 1] = hs[i].field
        args[#args + 1] = hs[i].value
        i = i + 1
      end
      redis.call('HSET', key, unpack(args))
    end
  end
  for _, h in ipairs(plan.hdel or {}) do redis.call('HDEL', h.key, h.field) end
  for _, z in ipairs(plan.zadd or {}) do redis.call('ZADD', z.key, z.score, z.member) end
  for _, z in ipairs(plan.zrem or {}) do redis.call('ZREM', z.key, z.member) end
  for _, k in ipairs(plan.del or {}) do redis.call('DEL', k) end
  for _, c in ipairs(plan.incr or {}) do redis.call('INCRBY', c.key, c.by or 1) end
  -- timeline entries and timer data come encoded (see encodePlan in effects.ts), with the fields read here
  for _, t in ipairs(plan.timeline or {}) do redis.call('RPUSH', K.timeline(t.inc), t.json) end
  for _, t in ipairs(plan.timeline or {}) do ix_actor(t.inc, t) end -- [ix]
  for _, id in ipairs(plan.cancel or {}) do
    redis.call('ZREM', S.timers, id)
    redis.call('DEL', K.timerData(id))
  end
  for _, t in ipairs(plan.timers or {}) do
    if redis.call('EXISTS', K.timerFired(t.id)) == 0 then
      redis.call('ZADD', S.timers, 'NX', t.due, t.id)
      redis.call('SET', K.timerData(t.id), t.json)
      ix_track_timer(t.id, t) -- [ix]
    end
  end
  -- [ix] counters, indexes and aggregates follow the change; a resolution cancels the incident's timers
  for _, ixid in ipairs(ix_order) do ix_apply(ixid, ix_touched[ixid] or nil) end
  for _, o in ipairs(plan.outbox or {}) do
    ob_push(now, o.chat, o.kind, o.data, o.coalesce or '', o.new == true)
  end
  for _, s in ipairs(plan.sync or {}) do sync_chats(now, s.inc, s.extra) end
  release(plan)
  if plan.read then return { 'ok', redis.call('HGETALL', plan.read) } end
  return 'ok'
end

if ARGV[3] ~= '*' then return apply(cjson.decode(ARGV[3])) end
local out = {}
for i = 4, #ARGV do
  local ok, res = pcall(apply, cjson.decode(ARGV[i]))
  if ok then out[#out + 1] = res else out[#out + 1] = 'error' end
end
return out
