-- common.lua: helpers prepended to every opsbot script (Redis Lua has no include).
-- Keys come from the generated K table (keys whose ids are found at run time) and S (the keys the
-- script declared in KEYS), both prepended with this file by scripts.ts from src/store/keys.ts.

-- Outbox lanes, served in this order for each chat (see outbox_claim.lua):
--   0 pages, and texts about a P0/P1 incident (status updates, breach notices)
--   1 new-incident cards of P0/P1 (a backlog of `digest_threshold` or more becomes digests)
--   2 new-incident cards of P2/P3 (the same; the storm digests come from here)
--   3 everything else: re-renders (syncs) of shown incidents and digests, edits, other texts, checklists
-- A job records its lane; it only ever moves to a more urgent one (a pending card that becomes a page),
-- leaving a stale id in the old list that the claim skips.
local function ob_lane_key(chat, lane)
  return K.obLane(chat, lane)
end

local function ob_urgent(inc)
  if not inc then return false end
  local sev = redis.call('HGET', K.incident(inc), 'severity')
  return sev == 'P0' or sev == 'P1'
end

local function ob_lane_of(kind, data, isnew)
  if kind == 'page' then return 0 end
  if kind == 'text' then
    if ob_urgent(data['inc']) then return 0 end
    return 3
  end
  if isnew then
    if ob_urgent(data['inc']) then return 1 end
    return 2
  end
  return 3
end

-- true when `chat` was shown incident `inc` only folded into a storm digest: no card of its own, sent
-- or on its way
local function ob_digest_only(chat, inc)
  if redis.call('HEXISTS', K.incident(inc), 'dg:' .. chat) == 0 then return false end
  return redis.call('HEXISTS', K.messages(inc), chat) == 0 and redis.call('HEXISTS', K.pendingCards(inc), chat) == 0
end

local function ob_push(now, chat, kind, data, coalesce, isnew)
  -- Queue one outbox job for `chat`; a pending job with the same coalesce key is replaced, not duplicated.
  -- A re-render of an incident that this chat saw only inside a storm digest re-renders that digest
  -- instead (one job per digest, however many of its incidents change).
  if kind == 'sync' and not isnew and data['inc'] then
    if redis.call('HEXISTS', K.messages(data['inc']), chat) == 0 then
      local did = redis.call('HGET', K.incident(data['inc']), 'dg:' .. chat)
      if did and redis.call('EXISTS', K.obDigest(did)) == 1 then
        kind, data, coalesce = 'digest_sync', { digest = did }, 'dg:' .. did
      end
    end
  end
  -- an incident this chat saw only inside a storm digest gets no post-emergency checklist there: the
  -- digest's re-render shows it resolved (the end of a storm costs one edit per digest, issue 13)
  if kind == 'checklist' and data['inc'] and ob_digest_only(chat, data['inc']) then return nil end
  local lane = ob_lane_of(kind, data, isnew)
  if coalesce ~= nil and coalesce ~= '' then
    local existing = redis.call('HGET', K.obCoalesce(chat), coalesce)
    if existing then
      local raw = redis.call('GET', K.obJob(existing))
      if raw then
        local old = cjson.decode(raw)
        -- a pending page stays a page: a later re-render must not turn a ringing message into a silent edit
        if old['kind'] == 'page' and kind == 'sync' then return existing end
        old['data'] = data
        old['kind'] = kind
        local was = tonumber(old['lane'] or 3)
        if lane < was then
          old['lane'] = lane
          redis.call('RPUSH', ob_lane_key(chat, lane), existing)
        end
        redis.call('SET', K.obJob(existing), cjson.encode(old))
        return existing
      end
    end
  end
  local id = tostring(redis.call('INCR', S.obSeq))
  local job = { id = id, chat = chat, kind = kind, data = data, coalesce = coalesce or '', new = isnew and 1 or 0, at = now, lane = lane }
  redis.call('SET', K.obJob(id), cjson.encode(job))
  redis.call('RPUSH', ob_lane_key(chat, lane), id)
  if coalesce ~= nil and coalesce ~= '' then
    redis.call('HSET', K.obCoalesce(chat), coalesce, id)
  end
  local nxt = tonumber(redis.call('GET', K.obNext(chat)) or '0')
  if nxt < now then nxt = now end
  redis.call('ZADD', S.obReady, 'NX', nxt, chat)
  return id
end

local function tl_push(inc, entry)
  redis.call('RPUSH', K.timeline(inc), cjson.encode(entry))
end

local function sync_chats(now, inc, extra)
  -- Re-render the incident in every chat that shows it (and in `extra` chats).
  local seen = {}
  local chats = redis.call('HKEYS', K.messages(inc))
  for _, c in ipairs(chats) do seen[c] = true end
  -- and every chat whose first card is on its way (its message id is not recorded yet)
  for _, c in ipairs(redis.call('HKEYS', K.pendingCards(inc))) do seen[c] = true end
  if extra then for _, c in ipairs(extra) do seen[c] = true end end
  for c, _ in pairs(seen) do
    ob_push(now, c, 'sync', { inc = inc }, 'sync:' .. inc, false)
  end
end

-- ===== read-side indexes, counters and daily aggregates (issue 13 item 4 / issue 15) =====
-- Every incident state change calls ix_apply in the same script, so these always equal a recount:
--   incs:st:<state>   zset id -> seq, one per state (triggered, acknowledged, resolved): cursor pages
--   incs:opensev      zset id -> severity rank * 1e12 + seq: open incidents as /incidents lists them
--   incs:silenced     zset id -> silenced until (ms; silenced=1 means +inf), open incidents only
--   incs:rt           zset id -> resolved_at: what retention compaction walks
-- Counts are read from these (ZCARD of a state index; ZCOUNT of a severity's score range of
-- incs:opensev), so no counter is written (schema 3 dropped the `cnt` hash and `incs:open`/`incs:all`).
--   agg:d:<day>       hash per UTC day of creation: <sev>|<integration>|n|a|r|b|ta<i>|tr<i>
--   agg:noisy:<day>   zset title -> alerts;  agg:resp:<day> zset person -> human actions
--   inc:{ID}:tm       set of the incident's timers (esc/breach/remind/reack), cancelled on resolution
-- An incident whose hash carries ix=1 is counted; one without it (stored by an older version) is
-- counted the first time a script touches it or by the start-up migration, never twice.
local IX_FIELDS = { 'state', 'severity', 'silenced', 'silenced_until', 'created_at', 'ack_at',
  'resolved_at', 'breached', 'integration', 'seq', 'ix' }
local IX_SEV = { P0 = 0, P1 = 1, P2 = 2, P3 = 3 }
local IX_DAY = 86400000
local IX_BUCKETS = 40
local IX_HUMAN = { acknowledged = true, resolved = true, note = true, update = true,
  runbook_started = true, assigned = true, escalate_requested = true }
local IX_TIMER_KINDS = { esc = true, breach = true, remind = true, reack = true }

local function ix_snap(id)
  local v = redis.call('HMGET', K.incident(id), unpack(IX_FIELDS))
  if not v[1] then return nil end
  local s = {}
  for i, f in ipairs(IX_FIELDS) do s[f] = v[i] or '' end
  if s.ix ~= '1' then return nil end -- not counted yet: treated as new
  return s
end

-- histogram bucket of a duration: 0 covers [0, 10 s]; bucket i covers (10 s * 2^((i-1)/2), 10 s * 2^(i/2)]
local function ix_bucket(ms)
  if ms <= 10000 then return 0 end
  local b = math.ceil(2 * math.log(ms / 10000) / math.log(2) - 1e-9)
  if b > IX_BUCKETS then b = IX_BUCKETS end
  return b
end

-- the aggregate fields one incident contributes, from a snapshot
local function ix_contrib(s)
  local out = {}
  if not s then return out end
  local created = tonumber(s.created_at) or 0
  local pre = (s.severity ~= '' and s.severity or 'P3') .. '|' .. (s.integration ~= '' and s.integration or '-') .. '|'
  local function add(k) out[k] = (out[k] or 0) + 1 end
  add(pre .. 'n')
  local ack = tonumber(s.ack_at)
  if ack then add(pre .. 'a') add(pre .. 'ta' .. ix_bucket(math.max(0, ack - created))) end
  local res = tonumber(s.resolved_at)
  if res then add(pre .. 'r') add(pre .. 'tr' .. ix_bucket(math.max(0, res - created))) end
  if s.breached == '1' then add(pre .. 'b') end
  return out, math.floor(created / IX_DAY)
end

local function ix_open_score(s)
  return (IX_SEV[s.severity] or 3) * 1e12 + (tonumber(s.seq) or 0)
end

local function ix_silenced_score(s)
  if s.state == 'resolved' then return nil end
  if s.silenced == '1' then return '+inf' end
  local u = tonumber(s.silenced_until)
  if u and u > 0 then return u end
  return nil
end

local function ix_cancel_timers(id, escTimer)
  local tk = K.incidentTimers(id)
  local ids = redis.call('SMEMBERS', tk)
  table.insert(ids, 'breach:' .. id)
  if escTimer and escTimer ~= '' then table.insert(ids, escTimer) end
  for _, t in ipairs(ids) do
    redis.call('ZREM', S.timers, t)
    redis.call('DEL', K.timerData(t))
  end
  redis.call('DEL', tk)
end

-- records a timer that belongs to an incident, so its resolution can cancel it
local function ix_track_timer(tid, data)
  if type(data) ~= 'table' or type(data.inc) ~= 'string' or not IX_TIMER_KINDS[data.kind] then return end
  redis.call('SADD', K.incidentTimers(data.inc), tid)
end

-- brings every index, counter and aggregate from `before` (nil: not counted) to the incident's current state
local function ix_apply(id, before)
  local ik = K.incident(id)
  local v = redis.call('HMGET', ik, unpack(IX_FIELDS))
  local after = nil
  if v[1] then
    after = {}
    for i, f in ipairs(IX_FIELDS) do after[f] = v[i] or '' end
  end
  if not before and not after then return end
  local b, a = before, after
  -- state index and counters
  local bst, ast = b and b.state or nil, a and a.state or nil
  if bst ~= ast or (b and a and b.seq ~= a.seq) then
    if bst then redis.call('ZREM', K.stateIndex(bst), id) end
    if ast then redis.call('ZADD', K.stateIndex(ast), tonumber(a.seq) or 0, id) end
  end
  local bopen = (b ~= nil) and b.state ~= 'resolved'
  local aopen = (a ~= nil) and a.state ~= 'resolved'
  if bopen ~= aopen or (bopen and b.severity ~= a.severity) then
    if aopen then
      redis.call('ZADD', S.openBySeverity, ix_open_score(a), id)
    else
      redis.call('ZREM', S.openBySeverity, id)
    end
  end
  -- silenced open incidents
  local bs = b and ix_silenced_score(b) or nil
  local as = a and ix_silenced_score(a) or nil
  if bs ~= as then
    if as then redis.call('ZADD', S.silencedIndex, as, id) else redis.call('ZREM', S.silencedIndex, id) end
  end
  -- resolution: retention index, and the incident's pending timers go
  if ast == 'resolved' and bst ~= 'resolved' then
    redis.call('ZADD', S.resolvedAt, tonumber(a.resolved_at) or 0, id)
    ix_cancel_timers(id, redis.call('HGET', ik, 'esc_timer'))
  elseif bst == 'resolved' and ast ~= 'resolved' then
    redis.call('ZREM', S.resolvedAt, id)
  end
  -- daily aggregates: subtract what the incident contributed, add what it contributes now
  local bc, bday = ix_contrib(b)
  local ac, aday = ix_contrib(a)
  if bday == aday then
    for k, n in pairs(bc) do
      local m = ac[k] or 0
      if m ~= n then redis.call('HINCRBY', K.aggDay(bday), k, m - n) end
      ac[k] = nil
    end
    for k, n in pairs(ac) do redis.call('HINCRBY', K.aggDay(aday), k, n) end
  else
    for k, n in pairs(bc) do redis.call('HINCRBY', K.aggDay(bday), k, -n) end
    for k, n in pairs(ac) do redis.call('HINCRBY', K.aggDay(aday), k, n) end
  end
  if a and a.ix ~= '1' then redis.call('HSET', ik, 'ix', 1) end
end

-- one more alert (new incident, added or re-fired alert) for the noisy-alerts ranking of its day
local function ix_noise(id, n)
  local h = redis.call('HMGET', K.incident(id), 'title', 'created_at')
  if not h[1] then return end
  redis.call('ZINCRBY', K.aggNoisy(math.floor((tonumber(h[2]) or 0) / IX_DAY)), n or 1, h[1])
end

-- a timeline entry by a person counts toward the busiest responders of the incident's day
local function ix_actor(id, entry)
  if type(entry) ~= 'table' or not IX_HUMAN[entry.type] or type(entry.actor) ~= 'string' then return end
  if entry.actor == 'opsbot' or entry.actor == '' then return end
  local h = redis.call('HMGET', K.incident(id), 'source', 'integration', 'created_at')
  if not h[3] then return end
  if entry.actor == h[1] or entry.actor == h[2] then return end
  redis.call('ZINCRBY', K.aggResponders(math.floor((tonumber(h[3]) or 0) / IX_DAY)), 1, entry.actor)
end

-- the incident id of an incident hash key (K.incident('INC-n')), or nil
local IX_INC_PRE, IX_INC_SUF = string.match(K.incident('\0'), '^(.*)%z(.*)$')
local function ix_incident_of(key)
  local pre, suf = IX_INC_PRE, IX_INC_SUF
  if type(key) ~= 'string' or #key <= #pre + #suf or key:sub(1, #pre) ~= pre or key:sub(-#suf) ~= suf then return nil end
  local id = key:sub(#pre + 1, -#suf - 1)
  if not id:match('^INC%-%d+$') then return nil end
  return id
end

-- Appends runtime overrides (JSON array) to a schedule's list in S.overrides (a hash: schedule ->
-- JSON array of { person, from, to, kind?, for? }), dropping those over for more than 35 days.
-- Readers (readRuntimeOverrides in src/escalation/engine.ts) skip the ended ones; calendar feeds
-- keep using recent ones so the pieces of a shift under way (and their UIDs) do not change.
local function overrides_append(schedule, now, added)
  local raw = redis.call('HGET', S.overrides, schedule)
  local list = {}
  if raw then
    for _, o in ipairs(cjson.decode(raw)) do
      if tonumber(o.to) > now - 35 * 86400000 then table.insert(list, o) end
    end
  end
  for _, o in ipairs(added) do table.insert(list, o) end
  if #list == 0 then
    redis.call('HDEL', S.overrides, schedule)
  else
    redis.call('HSET', S.overrides, schedule, cjson.encode(list))
  end
end
