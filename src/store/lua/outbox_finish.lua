-- outbox_finish.lua: settle a claimed outbox job: done (optionally recording the message id), or
-- retry (back to the front of its chat's queue, the chat paused for `delay` ms, e.g. a 429's retry_after).
-- KEYS[1]: routing key only (names derive from the prefix, which carries the hash tag on Cluster)
-- ARGV[1] prefix ARGV[2] now ARGV[3] job id ARGV[4] chat ARGV[5] outcome done|retry ARGV[6] delay ms
-- ARGV[7] hash key to record in (or '') ARGV[8] field ARGV[9] value
-- ARGV[10] 'err' when the retry follows a failure (counted for back-off); a 429 is not counted
-- Returns 1 when the job was still ours, 0 when it had already been settled or re-queued
local P = ARGV[1]
local now = tonumber(ARGV[2])
local jid, chat, outcome = ARGV[3], ARGV[4], ARGV[5]
local removed = redis.call('ZREM', P .. 'ob:inflight', jid)
if redis.call('GET', P .. 'ob:busy:' .. chat) == jid then redis.call('DEL', P .. 'ob:busy:' .. chat) end
if removed == 0 then return 0 end
if outcome == 'retry' then
  local delay = tonumber(ARGV[6])
  redis.call('LPUSH', P .. 'ob:q:' .. chat, jid)
  local raw = redis.call('GET', P .. 'ob:job:' .. jid)
  if raw then
    local j = cjson.decode(raw)
    if ARGV[10] == 'err' then j.attempts = (j.attempts or 0) + 1 end
    if j.new == 1 then redis.call('INCR', P .. 'ob:newc:' .. chat) end
    redis.call('SET', P .. 'ob:job:' .. jid, cjson.encode(j))
  end
  redis.call('SET', P .. 'ob:next:' .. chat, now + delay, 'PX', delay + 120000)
  redis.call('ZADD', P .. 'ob:ready', now + delay, chat)
  return 1
end
redis.call('DEL', P .. 'ob:job:' .. jid)
if ARGV[7] ~= '' then redis.call('HSET', ARGV[7], ARGV[8], ARGV[9]) end
return 1
