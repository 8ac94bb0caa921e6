-- lock_release.lua: delete a lock only if we still hold it.
-- KEYS[1]: routing key only  ARGV[1] full lock key ARGV[2] holder value
-- Returns 1 when released, 0 when someone else holds it (or it expired)
if redis.call('GET', ARGV[1]) == ARGV[2] then return redis.call('DEL', ARGV[1]) end
return 0
