-- rate_slide.lua: one hit on a sliding-window limit (at most ARGV[3] hits in any ARGV[4] ms), shared
-- by every replica. A refused hit is not recorded, so the set never holds more than ARGV[3] entries
-- and a flood does not push the end of the wait further out.
-- KEYS: S.log   a sorted set of the hits allowed in the window (member: the hit's id, score: its time)
--       S.warned the end of the wait whose one refusal was answered (the injected clock's time, so
--                it names the wait; its expiry only cleans up)
-- ARGV[1] prefix  ARGV[2] now (ms)  ARGV[3] max  ARGV[4] window (ms)  ARGV[5] the hit's id
-- Returns { 1 allowed | 0 refused, 1 when this is the first refusal of the wait, ms until the next
-- hit would be allowed (0 when allowed) }
local now, max, win = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', S.log, '-inf', now - win)
if redis.call('ZCARD', S.log) < max then
  redis.call('ZADD', S.log, now, ARGV[5])
  redis.call('PEXPIRE', S.log, win)
  return { 1, 0, 0 }
end
local oldest = tonumber(redis.call('ZRANGE', S.log, 0, 0, 'WITHSCORES')[2])
local wait = math.max(1, oldest + win - now)
local ends = tostring(oldest + win)
if redis.call('GET', S.warned) == ends then return { 0, 0, wait } end
redis.call('SET', S.warned, ends, 'PX', wait)
return { 0, 1, wait }
