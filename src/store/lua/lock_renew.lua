-- lock_renew.lua: extend a lock's lease only if we still hold it.
-- KEYS[1]: routing key only  ARGV[1] full lock key ARGV[2] holder value ARGV[3] lease in ms
-- Returns 1 when renewed, 0 when someone else holds it (or it expired)
if redis.call('GET', ARGV[1]) == ARGV[2] then return redis.call('PEXPIRE', ARGV[1], ARGV[3]) end
return 0
