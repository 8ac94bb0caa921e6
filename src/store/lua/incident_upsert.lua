-- incident_upsert.lua: fold a batch of alerts (one intake request) into their incidents, creating
-- incidents when needed, and queue the chat messages and timers that follow; all in one atomic step.
-- KEYS: the keys declared for this script in scripts.ts, read by name (S.<name>; S.rateLimit is the
-- request counter, or the incident sequence when there is no limit); other keys from K
-- ARGV[1] prefix  ARGV[2] now (ms)
-- ARGV[3] suppression version the caller's silence/maintenance/DM cache was read at ('' skips the check)
-- ARGV[4] rate limit JSON { max, ttl = ms, sizes = [n1, n2, ...] } ('' for none): the call carries
--   one or more requests (group commit, see src/store/ingest-queue.ts), `sizes` their item counts in
--   order (absent: one request). Each request counts one on the counter, as if it came alone, and
--   those that find it over max are refused: the first max - count are admitted, the items of the
--   others are left out
-- ARGV[5] JSON array, one item per alert, in order:
--   { d = scoped dedup key, fp = fingerprint, st = firing|resolved, ack = 1|0, n = notify 1|0,
--     sev, ch = [chat], cj = chats as JSON, c = 1-based index into ARGV[6] (creation plan),
--     f = { title, description, source, integration, labels (JSON), links (JSON), started_at, image } }
-- ARGV[6] JSON array of creation plans { hset = {field=value}, timers = [{id, due, data}], dms = [chat] };
--   `%ID%` stands for the new incident's id
-- ARGV[7..] alert JSON, one per item (stored as given, never re-encoded)
-- Returns { 'ok', admitted, id1, outcome1, id2, outcome2, ... } (admitted: how many of the requests
-- were admitted, -1 without a limit; outcome created|updated|acknowledged|resolved|unchanged|ignored;
-- id '' when ignored), or { 'stale', version } when the suppression version moved (nothing written),
-- or { 'rate_limited', count } when no request was admitted (only the request counter written).
--
-- Cost: one MGET reads every string key the batch needs (version, sequences, dedup pointers, chats'
-- pacing), and the writes of new incidents to shared keys (indexes, counters, timers, new-card jobs)
-- are gathered and written once per batch at the end (`flush`). An update that touches an incident
-- created earlier in the same batch flushes first, so it sees exactly what a separate call would.
local now = tonumber(ARGV[2])
local items = cjson.decode(ARGV[5])
local plans = cjson.decode(ARGV[6])

-- one MGET for every string key the batch may read (3: outbox job sequence, 4: rate-limit counter)
local rl = ARGV[4] ~= '' and cjson.decode(ARGV[4]) or nil
local mkeys = { S.suppressionVersion, S.seq, S.obSeq, S.rateLimit }
local dpos, npos = {}, {}
local function want(tbl, k)
  if tbl[k] == nil then
    mkeys[#mkeys + 1] = k
    tbl[k] = #mkeys
  end
end
for _, it in ipairs(items) do
  want(dpos, K.dedup(it.d))
  if it.n == 1 and it.st == 'firing' and it.ack ~= 1 then
    for _, c in ipairs(it.ch) do want(npos, c) end
    local plan = plans[it.c] or {}
    if type(plan.dms) == 'table' then for _, c in ipairs(plan.dms) do want(npos, c) end end
  end
end
for c, i in pairs(npos) do mkeys[i] = K.obNext(c) end
local pre = {}
for i = 1, #mkeys, 1000 do
  local r = redis.call('MGET', unpack(mkeys, i, math.min(#mkeys, i + 999)))
  for k = 1, #r do pre[i + k - 1] = r[k] end
end

if ARGV[3] ~= '' and (pre[1] or '0') ~= ARGV[3] then return { 'stale', pre[1] or '0' } end
local admitted = -1
if rl then
  -- the MGET saw whether the window's counter exists: one write either way
  local sizes = rl.sizes or { #items }
  local reqs = #sizes
  local before = tonumber(pre[4] or '0') or 0
  if pre[4] then redis.call('INCRBY', S.rateLimit, reqs) else redis.call('SET', S.rateLimit, reqs, 'PX', rl.ttl) end
  admitted = math.max(0, math.min(reqs, tonumber(rl.max) - before))
  if admitted == 0 then return { 'rate_limited', before + reqs } end
  if admitted < reqs then
    local keep = 0
    for r = 1, admitted do keep = keep + sizes[r] end
    for i = #items, keep + 1, -1 do items[i] = nil end
  end
end

local seq = tonumber(pre[2] or '0') or 0
local seqDirty = false
-- ob:seq as the MGET read it, while no ob_push (an update's sync, a checklist) has moved it since;
-- then flush numbers the batch's new-card jobs from it and writes it back with its MSET
local obseq = tonumber(pre[3] or '0') or 0
local obKnown = true
local dedupLocal = {} -- dedup key -> id (or false once deleted) written in this batch
local function dget(dkey)
  local v = dedupLocal[dkey]
  if v ~= nil then return v end
  return pre[dpos[dkey]]
end

-- gathered writes of the batch's new incidents
local W
local function reset()
  W = { mset = {}, due = {}, trig = {}, opensev = {}, silenced = {}, agg = {}, jobs = {}, created = {} }
end
reset()
local function agg(day, field, n)
  local t = W.agg[day]
  if not t then t = {}; W.agg[day] = t end
  t[field] = (t[field] or 0) + n
end
-- calls `cmd head... list...` in slices of at most 1,000 list elements (pairs stay together), as
-- Lua's unpack has a stack limit a 500-alert batch with many chats could pass
local function chunked(cmd, head, list)
  local n = #list
  local i = 1
  while i <= n do
    local args = {}
    for _, h in ipairs(head) do args[#args + 1] = h end
    local last = math.min(n, i + 999)
    for k = i, last do args[#args + 1] = list[k] end
    redis.call(cmd, unpack(args))
    i = last + 1
  end
end
local function zadd(key, list) chunked('ZADD', { key }, list) end
local function push2(list, a, b)
  list[#list + 1] = a
  list[#list + 1] = b
end

local function flush()
  if seqDirty then push2(W.mset, S.seq, seq); seqDirty = false end
  local nj = #W.jobs
  if nj > 0 then
    local base
    if obKnown then
      base = obseq
      push2(W.mset, S.obSeq, obseq + nj)
    else
      base = redis.call('INCRBY', S.obSeq, nj) - nj
      obKnown = true
    end
    obseq = base + nj
    local lanes, co, ready, order = {}, {}, {}, {}
    for i, j in ipairs(W.jobs) do
      local jid = tostring(base + i)
      local co_key = 'sync:' .. j.inc
      push2(W.mset, K.obJob(jid), cjson.encode({ id = jid, chat = j.chat, kind = 'sync',
        data = { inc = j.inc }, coalesce = co_key, new = 1, at = now, lane = j.lane }))
      local lk = K.obLane(j.chat, j.lane)
      if not lanes[lk] then lanes[lk] = {}; order[#order + 1] = lk end
      table.insert(lanes[lk], jid)
      if not co[j.chat] then co[j.chat] = {} end
      push2(co[j.chat], co_key, jid)
      if not ready[j.chat] then
        local nxt = tonumber(pre[npos[j.chat]] or '0') or 0
        if nxt < now then nxt = now end
        ready[j.chat] = nxt
      end
    end
    for _, lk in ipairs(order) do chunked('RPUSH', { lk }, lanes[lk]) end
    for chat, pairs_ in pairs(co) do chunked('HSET', { K.obCoalesce(chat) }, pairs_) end
    local rl = {}
    for chat, score in pairs(ready) do push2(rl, score, chat) end
    chunked('ZADD', { S.obReady, 'NX' }, rl)
  end
  chunked('MSET', {}, W.mset)
  chunked('ZADD', { S.timers, 'NX' }, W.due)
  zadd(K.stateIndex('triggered'), W.trig)
  zadd(S.openBySeverity, W.opensev)
  zadd(S.silencedIndex, W.silenced)
  for day, t in pairs(W.agg) do
    for f, n in pairs(t) do redis.call('HINCRBY', K.aggDay(day), f, n) end
  end
  reset()
end

-- a new incident: every field written at once, shared writes gathered for flush
local function create(it, alert)
  local f = it.f
  seq = seq + 1
  seqDirty = true
  local id = 'INC-' .. seq
  local ik = K.incident(id)
  local notify = it.n == 1
  local plan = plans[it.c] or {}
  local h = { 'id', id, 'seq', seq, 'state', 'triggered', 'severity', it.sev, 'title', f.title,
    'description', f.description or '', 'source', f.source, 'integration', f.integration or '',
    'dedup', it.d, 'chats', it.cj, 'labels', f.labels, 'links', f.links, 'created_at', now,
    'updated_at', now, 'alert_count', 1, 'firing_count', 1, 'level', 0, 'loop', 0,
    'silenced', notify and 0 or 1, 'started_at', f.started_at or now, 'ix', 1 }
  if type(plan.hset) == 'table' then
    for field, v in pairs(plan.hset) do push2(h, field, (string.gsub(tostring(v), '%%ID%%', id))) end
  end
  if f.image and f.image ~= '' then push2(h, 'image', f.image) end
  chunked('HSET', { ik }, h)
  redis.call('HSET', K.alerts(id), it.fp, alert)
  local dkey = K.dedup(it.d)
  dedupLocal[dkey] = id
  push2(W.mset, dkey, id)
  tl_push(id, { t = now, type = 'triggered', actor = f.source, text = f.title })
  local escTimer = type(plan.hset) == 'table' and plan.hset.esc_timer or nil
  if escTimer then escTimer = (string.gsub(tostring(escTimer), '%%ID%%', id)) end
  local tracked = {}
  if type(plan.timers) == 'table' then
    for _, tm in ipairs(plan.timers) do
      local tid = (string.gsub(tm.id, '%%ID%%', id))
      push2(W.due, tm.due, tid)
      push2(W.mset, K.timerData(tid), (string.gsub(cjson.encode(tm.data), '%%ID%%', id)))
      -- [ix] cancelled on resolution; the esc_timer field and breach:<id> are cancelled by name
      if IX_TIMER_KINDS[tm.data.kind] and tid ~= escTimer and tid ~= 'breach:' .. id then
        tracked[#tracked + 1] = tid
      end
    end
  end
  chunked('SADD', { K.incidentTimers(id) }, tracked)
  if notify then
    local lane = (it.sev == 'P0' or it.sev == 'P1') and 1 or 2
    local seen = {}
    for _, c in ipairs(it.ch) do
      if not seen[c] then seen[c] = true; W.jobs[#W.jobs + 1] = { chat = c, inc = id, lane = lane } end
    end
    -- private chats of people who asked for new incidents of this severity
    if type(plan.dms) == 'table' then
      for _, c in ipairs(plan.dms) do
        if not seen[c] then seen[c] = true; W.jobs[#W.jobs + 1] = { chat = c, inc = id, lane = lane } end
      end
    end
  end
  -- [ix] what ix_apply(id, nil) would do for a triggered incident, gathered
  push2(W.trig, seq, id)
  push2(W.opensev, (IX_SEV[it.sev] or 3) * 1e12 + seq, id)
  if not notify then push2(W.silenced, '+inf', id) end
  local day = math.floor(now / IX_DAY)
  agg(day, it.sev .. '|' .. ((f.integration or '') ~= '' and f.integration or '-') .. '|n', 1)
  redis.call('ZINCRBY', K.aggNoisy(day), 1, f.title) -- ix_noise
  W.created[id] = true
  return id
end

local UPD = { 'state', 'severity', 'silenced', 'silenced_until', 'created_at', 'ack_at', 'resolved_at',
  'breached', 'integration', 'seq', 'ix', 'source', 'chats', 'firing_count', 'alert_count', 'title' }

local function update(it, alert, id, h)
  local ik = K.incident(id)
  obKnown = false -- its sync or checklist may queue a job (ob_push takes the next ob:seq itself)
  local fp, status, ack = it.fp, it.st, it.ack == 1
  local s = {}
  for i, f in ipairs(UPD) do s[f] = h[i] or '' end
  local before = nil -- [ix]
  if s.ix == '1' then
    before = {}
    for _, f in ipairs(IX_FIELDS) do before[f] = s[f] end
  end
  local old = redis.call('HGET', K.alerts(id), fp)
  local known = old ~= false
  local wasFiring = false
  if known then
    local ok, dec = pcall(cjson.decode, old)
    wasFiring = ok and type(dec) == 'table' and dec.status == 'firing'
  end
  if old ~= alert then redis.call('HSET', K.alerts(id), fp, alert) end
  local isFiring = status == 'firing'
  local firing = (tonumber(s.firing_count) or 0) + (isFiring and 1 or 0) - (wasFiring and 1 or 0)
  if firing < 0 then firing = 0 end
  local count = (tonumber(s.alert_count) or 0) + (known and 0 or 1)
  local source = s.source
  local outcome = 'unchanged'
  local day = math.floor((tonumber(s.created_at) or 0) / IX_DAY)
  if firing == 0 then
    redis.call('HSET', ik, 'alert_count', count, 'firing_count', 0, 'updated_at', now,
      'state', 'resolved', 'resolved_at', now, 'resolved_by', source)
    local dkey = K.dedup(it.d)
    redis.call('DEL', dkey)
    dedupLocal[dkey] = false
    tl_push(id, { t = now, type = 'resolved', actor = source, text = 'all alerts resolved' })
    outcome = 'resolved'
    local chats = cjson.decode(s.chats ~= '' and s.chats or '[]')
    if (s.severity == 'P0' or s.severity == 'P1') and chats[1] then
      -- the post-emergency checklist follows the resolution of a P0/P1
      ob_push(now, chats[1], 'checklist', { inc = id }, 'checklist:' .. id, false)
    end
  elseif ack and s.state == 'triggered' then
    redis.call('HSET', ik, 'alert_count', count, 'firing_count', firing, 'updated_at', now,
      'state', 'acknowledged', 'ack_at', now, 'ack_by', source)
    tl_push(id, { t = now, type = 'acknowledged', actor = source })
    outcome = 'acknowledged'
  else
    if not known then
      tl_push(id, { t = now, type = 'alert_added', actor = source, text = fp })
      redis.call('ZINCRBY', K.aggNoisy(day), 1, s.title) -- [ix] ix_noise
      outcome = 'updated'
    elseif wasFiring and not isFiring then
      tl_push(id, { t = now, type = 'alert_resolved', actor = source, text = fp })
      outcome = 'updated'
    elseif (not wasFiring) and isFiring then
      tl_push(id, { t = now, type = 'alert_refired', actor = source, text = fp })
      redis.call('ZINCRBY', K.aggNoisy(day), 1, s.title) -- [ix] ix_noise
      outcome = 'updated'
    end
    -- an unchanged re-send (same alert, still firing) writes nothing to the incident
    if outcome ~= 'unchanged' then
      redis.call('HSET', ik, 'alert_count', count, 'firing_count', firing, 'updated_at', now)
    end
  end
  if outcome ~= 'unchanged' and s.silenced ~= '1' then
    sync_chats(now, id, cjson.decode(s.chats ~= '' and s.chats or '[]'))
  end
  -- [ix] only a state change (or an incident not counted yet) moves counters and indexes
  if before == nil or outcome == 'resolved' or outcome == 'acknowledged' then ix_apply(id, before) end
  return outcome
end

local out = { 'ok', admitted }
for i, it in ipairs(items) do
  local alert = ARGV[6 + i]
  local dkey = K.dedup(it.d)
  local id = dget(dkey)
  local h = nil
  if id then
    if W.created[id] then flush() end
    h = redis.call('HMGET', K.incident(id), unpack(UPD))
    if (not h[1]) or h[1] == 'resolved' then id = false end
  end
  if not id then
    if it.st == 'resolved' or it.ack == 1 then
      push2(out, '', 'ignored')
    else
      push2(out, create(it, alert), 'created')
    end
  else
    push2(out, id, update(it, alert, id, h))
  end
end
flush()
return out
