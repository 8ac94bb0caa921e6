-- lock_renew.lua: extend a lock's lease only if we still hold it.
-- KEYS: S.lease the lock's key  ARGV[1] prefix  ARGV[2] holder value ARGV[3] lease in ms
-- Returns 1 when renewed, 0 when someone else holds it (or it expired)
if redis.call('GET', S.lease) == ARGV[2] then return redis.call('PEXPIRE', S.lease, ARGV[3]) end
return 0
