-- outbox_claim.lua: take the next message that Telegram's limits allow us to send now.
-- Per chat: one send per `interval` ms, at most `perMinute` in any 60 s for groups (chat id < 0), and
-- one job in flight at a time; overall at most `perSecond` sends in any second. When a chat's backlog
-- of new-incident posts reaches `digest`, they are taken together as one digest.
-- KEYS[1]: routing key only (names derive from the prefix, which carries the hash tag on Cluster)
-- ARGV[1] prefix ARGV[2] now ARGV[3] lease ms ARGV[4] interval ms ARGV[5] perMinute ARGV[6] perSecond
-- ARGV[7] digest threshold ARGV[8] max digest size
-- Returns { 'job', jobJSON } | { 'digest', chat, JSON array of jobs } | { 'wait', ms until worth retrying }
--       | { 'idle', ms until the next ready chat or -1 }
local P = ARGV[1]
local now = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local interval = tonumber(ARGV[4])
local perMinute = tonumber(ARGV[5])
local perSecond = tonumber(ARGV[6])
local digestAt = tonumber(ARGV[7])
local digestMax = tonumber(ARGV[8])

-- give jobs whose worker died back to their chats (front of the queue)
local expired = redis.call('ZRANGEBYSCORE', P .. 'ob:inflight', '-inf', now, 'LIMIT', 0, 50)
for _, jid in ipairs(expired) do
  redis.call('ZREM', P .. 'ob:inflight', jid)
  local raw = redis.call('GET', P .. 'ob:job:' .. jid)
  if raw then
    local j = cjson.decode(raw)
    redis.call('LPUSH', P .. 'ob:q:' .. j.chat, jid)
    redis.call('DEL', P .. 'ob:busy:' .. j.chat)
    redis.call('ZADD', P .. 'ob:ready', now, j.chat)
  end
end

local gk = P .. 'ob:global'
redis.call('ZREMRANGEBYSCORE', gk, '-inf', now - 1000)
if redis.call('ZCARD', gk) >= perSecond then
  local oldest = redis.call('ZRANGE', gk, 0, 0, 'WITHSCORES')
  return { 'wait', tostring(math.max(1, tonumber(oldest[2]) + 1000 - now)) }
end

for _ = 1, 20 do
  local ready = redis.call('ZRANGEBYSCORE', P .. 'ob:ready', '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
  if #ready == 0 then
    local nxt = redis.call('ZRANGE', P .. 'ob:ready', 0, 0, 'WITHSCORES')
    if #nxt == 0 then return { 'idle', '-1' } end
    return { 'idle', tostring(math.max(1, tonumber(nxt[2]) - now)) }
  end
  local chat = ready[1]
  local qk = P .. 'ob:q:' .. chat
  if redis.call('LLEN', qk) == 0 then
    redis.call('ZREM', P .. 'ob:ready', chat)
  elseif redis.call('EXISTS', P .. 'ob:busy:' .. chat) == 1 then
    redis.call('ZADD', P .. 'ob:ready', now + 50, chat)
  else
    local wk = P .. 'ob:win:' .. chat
    local isGroup = string.sub(chat, 1, 1) == '-'
    redis.call('ZREMRANGEBYSCORE', wk, '-inf', now - 60000)
    if isGroup and redis.call('ZCARD', wk) >= perMinute then
      local oldest = redis.call('ZRANGE', wk, 0, 0, 'WITHSCORES')
      redis.call('ZADD', P .. 'ob:ready', tonumber(oldest[2]) + 60000, chat)
    else
      local jid = redis.call('LPOP', qk)
      local raw = redis.call('GET', P .. 'ob:job:' .. jid)
      if raw then
        local job = cjson.decode(raw)
        local result
        local newc = tonumber(redis.call('GET', P .. 'ob:newc:' .. chat) or '0')
        if job.new == 1 and newc >= digestAt then
          -- storm: merge every pending new-incident post of this chat into one digest
          local jobs = { job }
          local ids = redis.call('LRANGE', qk, 0, -1)
          for _, other in ipairs(ids) do
            if #jobs >= digestMax then break end
            local oraw = redis.call('GET', P .. 'ob:job:' .. other)
            if oraw then
              local oj = cjson.decode(oraw)
              if oj.new == 1 then
                table.insert(jobs, oj)
                redis.call('LREM', qk, 1, other)
              end
            end
          end
          for _, j in ipairs(jobs) do
            redis.call('DEL', P .. 'ob:job:' .. j.id)
            if j.coalesce ~= '' then redis.call('HDEL', P .. 'ob:co:' .. chat, j.coalesce) end
          end
          redis.call('DECRBY', P .. 'ob:newc:' .. chat, #jobs)
          -- the digest itself is a job so a crash mid-send re-delivers it
          local did = 'd' .. tostring(redis.call('INCR', P .. 'ob:seq'))
          local incs = {}
          for _, j in ipairs(jobs) do table.insert(incs, j.data.inc) end
          local dj = { id = did, chat = chat, kind = 'digest', data = { incs = incs }, coalesce = '', new = 0, at = now }
          redis.call('SET', P .. 'ob:job:' .. did, cjson.encode(dj))
          job = dj
          result = { 'job', cjson.encode(dj) }
        else
          if job.new == 1 then redis.call('DECR', P .. 'ob:newc:' .. chat) end
          if job.coalesce ~= '' then redis.call('HDEL', P .. 'ob:co:' .. chat, job.coalesce) end
          result = { 'job', raw }
        end
        redis.call('ZADD', P .. 'ob:inflight', now + lease, job.id)
        redis.call('SET', P .. 'ob:busy:' .. chat, job.id, 'PX', lease)
        redis.call('ZADD', gk, now, job.id .. ':' .. now)
        redis.call('ZADD', wk, now, job.id .. ':' .. now)
        redis.call('PEXPIRE', wk, 61000)
        redis.call('SET', P .. 'ob:next:' .. chat, now + interval, 'PX', 120000)
        if redis.call('LLEN', qk) > 0 then
          redis.call('ZADD', P .. 'ob:ready', now + interval, chat)
        else
          redis.call('ZREM', P .. 'ob:ready', chat)
        end
        return result
      end
    end
  end
end
return { 'wait', '10' }
