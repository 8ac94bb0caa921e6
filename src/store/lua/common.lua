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
  if extra then for _, c in ipairs(extra) do seen[c] = true end end
  for c, _ in pairs(seen) do
    ob_push(P, now, c, 'sync', { inc = inc }, 'sync:' .. inc, false)
  end
end

-- Appends runtime overrides (JSON array) to a schedule's list in P..'overrides' (a hash: schedule ->
-- JSON array of { person, from, to, kind?, for? }), dropping those over for more than 35 days.
-- Readers (readRuntimeOverrides in src/escalation/engine.ts) skip the ended ones; calendar feeds
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
