-- common.lua: helpers prepended to every opsbot script (Redis Lua has no include).
-- Key names built here mirror src/store/keys.ts; P is the key prefix (ARGV[1] of every script).

-- Outbox lanes, served in this order for each chat (see outbox_claim.lua):
--   0 pages, and texts about a P0/P1 incident (status updates, breach notices)
--   1 new-incident cards of P0/P1 (a backlog of `digest_threshold` or more becomes digests)
--   2 new-incident cards of P2/P3 (the same; the storm digests come from here)
--   3 everything else: re-renders (syncs) of shown incidents and digests, edits, other texts, checklists
-- A job records its lane; it only ever moves to a more urgent one (a pending card that becomes a page),
-- leaving a stale id in the old list that the claim skips.
local function ob_lane_key(P, chat, lane)
  if lane == 3 then return P .. 'ob:q:' .. chat end
  return P .. 'ob:l' .. lane .. ':' .. chat
end

local function ob_urgent(P, inc)
  if not inc then return false end
  local sev = redis.call('HGET', P .. 'inc:{' .. tostring(inc) .. '}', 'severity')
  return sev == 'P0' or sev == 'P1'
end

local function ob_lane_of(P, kind, data, isnew)
  if kind == 'page' then return 0 end
  if kind == 'text' then
    if ob_urgent(P, data['inc']) then return 0 end
    return 3
  end
  if isnew then
    if ob_urgent(P, data['inc']) then return 1 end
    return 2
  end
  return 3
end

-- true when `chat` was shown incident `inc` only folded into a storm digest: no card of its own, sent
-- or on its way
local function ob_digest_only(P, chat, inc)
  local ik = P .. 'inc:{' .. tostring(inc) .. '}'
  if redis.call('HEXISTS', ik, 'dg:' .. chat) == 0 then return false end
  return redis.call('HEXISTS', ik .. ':msgs', chat) == 0 and redis.call('HEXISTS', ik .. ':pend', chat) == 0
end

local function ob_push(P, now, chat, kind, data, coalesce, isnew)
  -- Queue one outbox job for `chat`; a pending job with the same coalesce key is replaced, not duplicated.
  -- A re-render of an incident that this chat saw only inside a storm digest re-renders that digest
  -- instead (one job per digest, however many of its incidents change).
  if kind == 'sync' and not isnew and data['inc'] then
    local ik = P .. 'inc:{' .. tostring(data['inc']) .. '}'
    if redis.call('HEXISTS', ik .. ':msgs', chat) == 0 then
      local did = redis.call('HGET', ik, 'dg:' .. chat)
      if did and redis.call('EXISTS', P .. 'ob:dg:' .. did) == 1 then
        kind, data, coalesce = 'digest_sync', { digest = did }, 'dg:' .. did
      end
    end
  end
  -- an incident this chat saw only inside a storm digest gets no post-emergency checklist there: the
  -- digest's re-render shows it resolved (the end of a storm costs one edit per digest, issue 13)
  if kind == 'checklist' and data['inc'] and ob_digest_only(P, chat, data['inc']) then return nil end
  local lane = ob_lane_of(P, kind, data, isnew)
  if coalesce ~= nil and coalesce ~= '' then
    local existing = redis.call('HGET', P .. 'ob:co:' .. chat, coalesce)
    if existing then
      local raw = redis.call('GET', P .. 'ob:job:' .. existing)
      if raw then
        local old = cjson.decode(raw)
        -- a pending page stays a page: a later re-render must not turn a ringing message into a silent edit
        if old['kind'] == 'page' and kind == 'sync' then return existing end
        old['data'] = data
        old['kind'] = kind
        local was = tonumber(old['lane'] or 3)
        if lane < was then
          old['lane'] = lane
          redis.call('RPUSH', ob_lane_key(P, chat, lane), existing)
        end
        redis.call('SET', P .. 'ob:job:' .. existing, cjson.encode(old))
        return existing
      end
    end
  end
  local id = tostring(redis.call('INCR', P .. 'ob:seq'))
  local job = { id = id, chat = chat, kind = kind, data = data, coalesce = coalesce or '', new = isnew and 1 or 0, at = now, lane = lane }
  redis.call('SET', P .. 'ob:job:' .. id, cjson.encode(job))
  redis.call('RPUSH', ob_lane_key(P, chat, lane), id)
  if coalesce ~= nil and coalesce ~= '' then
    redis.call('HSET', P .. 'ob:co:' .. chat, coalesce, id)
  end
  local nxt = tonumber(redis.call('GET', P .. 'ob:next:' .. chat) or '0')
  if nxt < now then nxt = now end
  redis.call('ZADD', P .. 'ob:ready', 'NX', nxt, chat)
  return id
end

local function tl_push(P, inc, entry)
  redis.call('RPUSH', P .. 'inc:{' .. inc .. '}:tl', cjson.encode(entry))
end

local function sync_chats(P, now, inc, extra)
  -- Re-render the incident in every chat that shows it (and in `extra` chats).
  local seen = {}
  local chats = redis.call('HKEYS', P .. 'inc:{' .. inc .. '}:msgs')
  for _, c in ipairs(chats) do seen[c] = true end
  -- and every chat whose first card is on its way (its message id is not recorded yet)
  for _, c in ipairs(redis.call('HKEYS', P .. 'inc:{' .. inc .. '}:pend')) do seen[c] = true end
  if extra then for _, c in ipairs(extra) do seen[c] = true end end
  for c, _ in pairs(seen) do
    ob_push(P, now, c, 'sync', { inc = inc }, 'sync:' .. inc, false)
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

local function ix_snap(P, id)
  local v = redis.call('HMGET', P .. 'inc:{' .. id .. '}', unpack(IX_FIELDS))
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

local function ix_cancel_timers(P, id, escTimer)
  local tk = P .. 'inc:{' .. id .. '}:tm'
  local ids = redis.call('SMEMBERS', tk)
  table.insert(ids, 'breach:' .. id)
  if escTimer and escTimer ~= '' then table.insert(ids, escTimer) end
  for _, t in ipairs(ids) do
    redis.call('ZREM', P .. 'tm:due', t)
    redis.call('DEL', P .. 'tm:data:' .. t)
  end
  redis.call('DEL', tk)
end

-- records a timer that belongs to an incident, so its resolution can cancel it
local function ix_track_timer(P, tid, data)
  if type(data) ~= 'table' or type(data.inc) ~= 'string' or not IX_TIMER_KINDS[data.kind] then return end
  redis.call('SADD', P .. 'inc:{' .. data.inc .. '}:tm', tid)
end

-- brings every index, counter and aggregate from `before` (nil: not counted) to the incident's current state
local function ix_apply(P, id, before)
  local ik = P .. 'inc:{' .. id .. '}'
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
    if bst then redis.call('ZREM', P .. 'incs:st:' .. bst, id) end
    if ast then redis.call('ZADD', P .. 'incs:st:' .. ast, tonumber(a.seq) or 0, id) end
  end
  local bopen = (b ~= nil) and b.state ~= 'resolved'
  local aopen = (a ~= nil) and a.state ~= 'resolved'
  if bopen ~= aopen or (bopen and b.severity ~= a.severity) then
    if aopen then
      redis.call('ZADD', P .. 'incs:opensev', ix_open_score(a), id)
    else
      redis.call('ZREM', P .. 'incs:opensev', id)
    end
  end
  -- silenced open incidents
  local bs = b and ix_silenced_score(b) or nil
  local as = a and ix_silenced_score(a) or nil
  if bs ~= as then
    if as then redis.call('ZADD', P .. 'incs:silenced', as, id) else redis.call('ZREM', P .. 'incs:silenced', id) end
  end
  -- resolution: retention index, and the incident's pending timers go
  if ast == 'resolved' and bst ~= 'resolved' then
    redis.call('ZADD', P .. 'incs:rt', tonumber(a.resolved_at) or 0, id)
    ix_cancel_timers(P, id, redis.call('HGET', ik, 'esc_timer'))
  elseif bst == 'resolved' and ast ~= 'resolved' then
    redis.call('ZREM', P .. 'incs:rt', id)
  end
  -- daily aggregates: subtract what the incident contributed, add what it contributes now
  local bc, bday = ix_contrib(b)
  local ac, aday = ix_contrib(a)
  if bday == aday then
    for k, n in pairs(bc) do
      local m = ac[k] or 0
      if m ~= n then redis.call('HINCRBY', P .. 'agg:d:' .. bday, k, m - n) end
      ac[k] = nil
    end
    for k, n in pairs(ac) do redis.call('HINCRBY', P .. 'agg:d:' .. aday, k, n) end
  else
    for k, n in pairs(bc) do redis.call('HINCRBY', P .. 'agg:d:' .. bday, k, -n) end
    for k, n in pairs(ac) do redis.call('HINCRBY', P .. 'agg:d:' .. aday, k, n) end
  end
  if a and a.ix ~= '1' then redis.call('HSET', ik, 'ix', 1) end
end

-- one more alert (new incident, added or re-fired alert) for the noisy-alerts ranking of its day
local function ix_noise(P, id, n)
  local h = redis.call('HMGET', P .. 'inc:{' .. id .. '}', 'title', 'created_at')
  if not h[1] then return end
  redis.call('ZINCRBY', P .. 'agg:noisy:' .. math.floor((tonumber(h[2]) or 0) / IX_DAY), n or 1, h[1])
end

-- a timeline entry by a person counts toward the busiest responders of the incident's day
local function ix_actor(P, id, entry)
  if type(entry) ~= 'table' or not IX_HUMAN[entry.type] or type(entry.actor) ~= 'string' then return end
  if entry.actor == 'opsbot' or entry.actor == '' then return end
  local h = redis.call('HMGET', P .. 'inc:{' .. id .. '}', 'source', 'integration', 'created_at')
  if not h[3] then return end
  if entry.actor == h[1] or entry.actor == h[2] then return end
  redis.call('ZINCRBY', P .. 'agg:resp:' .. math.floor((tonumber(h[3]) or 0) / IX_DAY), 1, entry.actor)
end

-- the incident id of an incident hash key (`<P>inc:{INC-n}`), or nil
local function ix_incident_of(P, key)
  local pre = P .. 'inc:{'
  if type(key) ~= 'string' or key:sub(1, #pre) ~= pre or key:sub(-1) ~= '}' then return nil end
  local id = key:sub(#pre + 1, -2)
  if not id:match('^INC%-%d+$') then return nil end
  return id
end

-- Appends runtime overrides (JSON array) to a schedule's list in P..'overrides' (a hash: schedule ->
-- JSON array of { person, from, to, kind?, for? }), dropping those over for more than 35 days.
-- Readers (readRuntimeOverrides in src/store/overrides.ts) skip the ended ones; calendar feeds
-- keep using recent ones so the pieces of a shift under way (and their UIDs) do not change.
local function overrides_append(P, schedule, now, added)
  local raw = redis.call('HGET', P .. 'overrides', schedule)
  local list = {}
  if raw then
    for _, o in ipairs(cjson.decode(raw)) do
      if tonumber(o.to) > now - 35 * 86400000 then table.insert(list, o) end
    end
  end
  for _, o in ipairs(added) do table.insert(list, o) end
  if #list == 0 then
    redis.call('HDEL', P .. 'overrides', schedule)
  else
    redis.call('HSET', P .. 'overrides', schedule, cjson.encode(list))
  end
end
