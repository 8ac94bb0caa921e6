-- override_add.lua: add runtime overrides to a schedule in one step (/override), so two writers
-- (an /override and an accepted /cover at the same moment) never lose each other's entry.
-- KEYS[1]: routing key only
-- ARGV[1] prefix ARGV[2] now ARGV[3] schedule ARGV[4] JSON array of overrides { person, from, to }
-- Returns the number of overrides the schedule now has.
local P = ARGV[1]
overrides_append(P, ARGV[3], tonumber(ARGV[2]), cjson.decode(ARGV[4]))
local raw = redis.call('HGET', P .. 'overrides', ARGV[3])
if not raw then return 0 end
return #cjson.decode(raw)
