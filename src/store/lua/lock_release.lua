-- lock_release.lua: delete a lock only if we still hold it.
-- KEYS: S.lease the lock's key  ARGV[1] prefix  ARGV[2] holder value
-- Returns 1 when released, 0 when someone else holds it (or it expired)
if redis.call('GET', S.lease) == ARGV[2] then return redis.call('DEL', S.lease) end
return 0
