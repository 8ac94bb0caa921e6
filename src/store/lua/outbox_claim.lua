-- outbox_claim.lua: take the next message that Telegram's limits allow us to send now.
-- Per chat: one send per `interval` ms, at most `perMinute` in any 60 s for groups (chat id < 0), and
-- one job in flight at a time; overall at most `perSecond` sends in any second. Within a chat the
-- lanes of common.lua are served in order (pages first, re-renders last). When a new-card lane holds
-- `digest` or more cards, up to `max digest size` of them are taken in one bounded pop as one digest,
-- remembered in a per-digest record (ob:dg:<id>, incidents capped at that size) so that their later
-- changes re-render the digest instead of posting or editing per incident.
-- A claimed job holds a pacing slot; outbox_finish gives it back when the job sent nothing.
-- KEYS: the keys declared for this script in scripts.ts, read by name (S.<name>); other keys from K
-- ARGV[1] prefix ARGV[2] now ARGV[3] lease ms ARGV[4] interval ms ARGV[5] perMinute ARGV[6] perSecond
-- ARGV[7] digest threshold ARGV[8] max digest size
-- Returns { 'job', jobJSON, slot } | { 'wait', ms until worth retrying }
--       | { 'idle', ms until the next ready chat or -1 }
local now = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
local perMinute = tonumber(ARGV[5])
local perSecond = tonumber(ARGV[6])
local digestAt = tonumber(ARGV[7])
local digestMax = tonumber(ARGV[8])
local DIGEST_TTL = 7 * 86400 -- a digest's record: how long its incidents' changes still re-render it

local function first_lane(chat)
  for lane = 0, 3 do
    if redis.call('LLEN', ob_lane_key(chat, lane)) > 0 then return lane end
  end
  return nil
end

local function unco(chat, j)
  if j.coalesce ~= '' and redis.call('HGET', K.obCoalesce(chat), j.coalesce) == j.id then
    redis.call('HDEL', K.obCoalesce(chat), j.coalesce)
  end
end

-- give jobs whose worker died back to their chats (front of their lane)
local expired = redis.call('ZRANGEBYSCORE', S.obInflight, '-inf', now, 'LIMIT', 0, 50)
for _, jid in ipairs(expired) do
  redis.call('ZREM', S.obInflight, jid)
  local raw = redis.call('GET', K.obJob(jid))
  if raw then
    local j = cjson.decode(raw)
    redis.call('LPUSH', ob_lane_key(j.chat, tonumber(j.lane or 3)), jid)
    if j.coalesce ~= '' then redis.call('HSETNX', K.obCoalesce(j.chat), j.coalesce, jid) end
    redis.call('DEL', K.obBusy(j.chat))
    redis.call('ZADD', S.obReady, now, j.chat)
  end
end

local gk = S.obGlobal
redis.call('ZREMRANGEBYSCORE', gk, '-inf', now - 1000)
if redis.call('ZCARD', gk) >= perSecond then
  local oldest = redis.call('ZRANGE', gk, 0, 0, 'WITHSCORES')
  return { 'wait', tostring(math.max(1, tonumber(oldest[2]) + 1000 - now)) }
end

-- Pops the next job of `chat`'s `lane` (a digest when a new-card lane is long enough); nil when the
-- popped id was stale (its job moved to a more urgent lane, or is gone): then nothing was taken.
local function take(chat, lane)
  local lk = ob_lane_key(chat, lane)
  local jid = redis.call('LPOP', lk)
  local raw = redis.call('GET', K.obJob(jid))
  if not raw then return nil end
  local job = cjson.decode(raw)
  if tonumber(job.lane or 3) ~= lane then return nil end
  if (lane == 1 or lane == 2) and job.kind == 'sync' and redis.call('LLEN', lk) + 1 >= digestAt then
    local jobs = { job }
    local ids = redis.call('LPOP', lk, digestMax - 1)
    local back = {}
    for _, other in ipairs(ids or {}) do
      local oraw = redis.call('GET', K.obJob(other))
      if oraw then
        local oj = cjson.decode(oraw)
        if tonumber(oj.lane or 3) == lane then
          if oj.kind == 'sync' then table.insert(jobs, oj) else table.insert(back, other) end
        end
      end
    end
    for i = #back, 1, -1 do redis.call('LPUSH', lk, back[i]) end
    if #jobs >= 2 then
      local did = 'd' .. tostring(redis.call('INCR', S.obSeq))
      local incs = {}
      for _, j in ipairs(jobs) do
        redis.call('DEL', K.obJob(j.id))
        unco(chat, j)
        local inc = j.data.inc
        if inc then
          table.insert(incs, inc)
          local ik = K.incident(inc)
          if redis.call('EXISTS', ik) == 1 then redis.call('HSET', ik, 'dg:' .. chat, did) end
        end
      end
      local dk = K.obDigest(did)
      redis.call('HSET', dk, 'chat', chat, 'incs', cjson.encode(incs), 'at', now)
      redis.call('EXPIRE', dk, DIGEST_TTL)
      -- the digest itself is a job so a crash mid-send re-delivers it
      local dj = { id = did, chat = chat, kind = 'digest', data = { incs = incs, digest = did }, coalesce = '', new = 0, at = now, lane = lane }
      local draw = cjson.encode(dj)
      redis.call('SET', K.obJob(did), draw)
      return dj, draw
    end
  end
  unco(chat, job)
  return job, raw
end

for _ = 1, 20 do
  local ready = redis.call('ZRANGEBYSCORE', S.obReady, '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
  if #ready == 0 then
    local nxt = redis.call('ZRANGE', S.obReady, 0, 0, 'WITHSCORES')
    if #nxt == 0 then return { 'idle', '-1' } end
    return { 'idle', tostring(math.max(1, tonumber(nxt[2]) - now)) }
  end
  local chat = ready[1]
  local lane = first_lane(chat)
  if lane == nil then
    redis.call('ZREM', S.obReady, chat)
  elseif redis.call('EXISTS', K.obBusy(chat)) == 1 then
    redis.call('ZADD', S.obReady, now + 50, chat)
  else
    local wk = K.obWindow(chat)
    local isGroup = string.sub(chat, 1, 1) == '-'
    redis.call('ZREMRANGEBYSCORE', wk, '-inf', now - 60000)
    if isGroup and redis.call('ZCARD', wk) >= perMinute then
      local oldest = redis.call('ZRANGE', wk, 0, 0, 'WITHSCORES')
      redis.call('ZADD', S.obReady, tonumber(oldest[2]) + 60000, chat)
    else
      local job, raw = take(chat, lane)
      if job then
        local slot = job.id .. ':' .. now
        -- a first card on its way: until outbox_finish records its message, changes to the incident
        -- must still re-render this chat (sync_chats reads this marker beside the recorded messages)
        if (job.kind == 'sync' or job.kind == 'page') and type(job.data) == 'table' and job.data.inc then
          local inc = job.data.inc
          if redis.call('HEXISTS', K.messages(inc), chat) == 0 then redis.call('HSET', K.pendingCards(inc), chat, job.id) end
        end
        redis.call('ZADD', S.obInflight, now + lease, job.id)
        redis.call('SET', K.obBusy(chat), job.id, 'PX', lease)
        redis.call('ZADD', gk, now, slot)
        redis.call('ZADD', wk, now, slot)
        redis.call('PEXPIRE', wk, 61000)
        redis.call('SET', K.obNext(chat), now + interval, 'PX', 120000)
        if first_lane(chat) ~= nil then
          redis.call('ZADD', S.obReady, now + interval, chat)
        else
          redis.call('ZREM', S.obReady, chat)
        end
        return { 'job', raw, slot }
      end
    end
  end
end
return { 'wait', '10' }
