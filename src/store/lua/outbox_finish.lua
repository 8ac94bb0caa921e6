-- outbox_finish.lua: settle a claimed outbox job: done (optionally recording the message id), noop
-- (it sent nothing: its pacing slot is given back and the chat may send again at once), or retry
-- (back to the front of its lane, the chat paused for `delay` ms, e.g. a 429's retry_after).
-- KEYS: the keys declared for this script in scripts.ts, read by name (S.<name>); other keys from K
-- ARGV[1] prefix ARGV[2] now ARGV[3] job id ARGV[4] chat ARGV[5] outcome done|noop|retry ARGV[6] delay ms
-- ARGV[7] hash key to record in (or '') ARGV[8] field ARGV[9] value
-- ARGV[10] 'err' when the retry follows a failure (counted for back-off); a 429 is not counted
-- ARGV[11] the slot the claim returned (for noop) ARGV[12..14] a second record: key (or ''), field, value
-- ARGV[15..17] a third record: key (or ''), field, value
-- Returns 1 when the job was still ours, 0 when it had already been settled or re-queued
local now = tonumber(ARGV[2])
local jid, chat, outcome = ARGV[3], ARGV[4], ARGV[5]
local removed = redis.call('ZREM', S.obInflight, jid)
if redis.call('GET', K.obBusy(chat)) == jid then redis.call('DEL', K.obBusy(chat)) end
if removed == 0 then return 0 end
if outcome == 'retry' then
  local delay = tonumber(ARGV[6])
  local raw = redis.call('GET', K.obJob(jid))
  if raw then
    local j = cjson.decode(raw)
    if ARGV[10] == 'err' then j.attempts = (j.attempts or 0) + 1 end
    redis.call('LPUSH', ob_lane_key(chat, tonumber(j.lane or 3)), jid)
    if j.coalesce ~= '' then redis.call('HSETNX', K.obCoalesce(chat), j.coalesce, jid) end
    redis.call('SET', K.obJob(jid), cjson.encode(j))
  end
  redis.call('SET', K.obNext(chat), now + delay, 'PX', delay + 120000)
  redis.call('ZADD', S.obReady, now + delay, chat)
  return 1
end
local done = redis.call('GET', K.obJob(jid))
if done then
  -- the first card's marker (outbox_claim) goes once the job is settled: its message is recorded now
  local j = cjson.decode(done)
  if type(j.data) == 'table' and j.data.inc then
    local pk = K.pendingCards(j.data.inc)
    if redis.call('HGET', pk, chat) == jid then redis.call('HDEL', pk, chat) end
  end
end
redis.call('DEL', K.obJob(jid))
if (ARGV[7] or '') ~= '' then redis.call('HSET', ARGV[7], ARGV[8], ARGV[9]) end
if (ARGV[12] or '') ~= '' then redis.call('HSET', ARGV[12], ARGV[13], ARGV[14]) end
if (ARGV[15] or '') ~= '' then redis.call('HSET', ARGV[15], ARGV[16], ARGV[17]) end
if outcome == 'noop' then
  local slot = ARGV[11] or ''
  if slot ~= '' then
    redis.call('ZREM', S.obGlobal, slot)
    redis.call('ZREM', K.obWindow(chat), slot)
  end
  redis.call('DEL', K.obNext(chat))
  for lane = 0, 3 do
    if redis.call('LLEN', ob_lane_key(chat, lane)) > 0 then
      redis.call('ZADD', S.obReady, now, chat)
      break
    end
  end
end
return 1
