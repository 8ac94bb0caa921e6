-- timer_hold.lua: the one right to do a claimed timer's outside work (a webhook request), taken just
-- before the work starts. A claim can outlive its lease and be claimed again elsewhere; the hold makes
-- sure only one replica ever makes the request while its holder lives. The hold is a real-time lease
-- (PX), renewed by its holder while the request runs (lock_renew.lua) and dropped when the timer
-- settles, so after a holder crashed it runs out and the timer is worked again (at least once).
-- KEYS: the keys declared for this script in scripts.ts, read by name (S.<name>); other keys from K
-- ARGV[1] prefix ARGV[2] now ARGV[3] timer id ARGV[4] holder ARGV[5] hold ms (real time) ARGV[6] lease ms
-- Returns 'ok' (go ahead), 'busy' (another holder is at it) or 'done' (settled or cancelled)
local now = tonumber(ARGV[2])
local id = ARGV[3]
if redis.call('EXISTS', S.fired) == 1 or redis.call('EXISTS', S.data) == 0 then
  redis.call('ZREM', S.timerInflight, id)
  return 'done'
end
-- claimed while someone works it: off the due set, back after a lease to see whether the holder lives
redis.call('ZREM', S.timers, id)
redis.call('ZADD', S.timerInflight, now + tonumber(ARGV[6]), id)
local mk = S.hold
local cur = redis.call('GET', mk)
if cur and cur ~= ARGV[4] then return 'busy' end
redis.call('SET', mk, ARGV[4], 'PX', tonumber(ARGV[5]))
return 'ok'
