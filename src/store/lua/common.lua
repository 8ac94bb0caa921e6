-- common.lua: helpers prepended to every opsbot script (Redis Lua has no include).
-- Key names built here mirror src/store/keys.ts; P is the key prefix (ARGV[1] of every script).

local function ob_push(P, now, chat, kind, data, coalesce, isnew)
  -- Queue one outbox job for `chat`; a pending job with the same coalesce key is replaced, not duplicated.
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
        redis.call('SET', P .. 'ob:job:' .. existing, cjson.encode(old))
        return existing
      end
    end
  end
  local id = tostring(redis.call('INCR', P .. 'ob:seq'))
  local job = { id = id, chat = chat, kind = kind, data = data, coalesce = coalesce or '', new = isnew and 1 or 0, at = now }
  redis.call('SET', P .. 'ob:job:' .. id, cjson.encode(job))
  redis.call('RPUSH', P .. 'ob:q:' .. chat, id)
  if coalesce ~= nil and coalesce ~= '' then
    redis.call('HSET', P .. 'ob:co:' .. chat, coalesce, id)
  end
  if isnew then
    redis.call('INCR', P .. 'ob:newc:' .. chat)
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
