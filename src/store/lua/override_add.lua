-- override_add.lua: add runtime overrides to a schedule in one step (/override), so two writers
-- (an /override and an accepted /cover at the same moment) never lose each other's entry.
-- KEYS: the keys declared for this script in scripts.ts, read by name (S.<name>); other keys from K
-- ARGV[1] prefix ARGV[2] now ARGV[3] schedule ARGV[4] JSON array of overrides { person, from, to }
-- Returns the number of overrides the schedule now has.
overrides_append(ARGV[3], tonumber(ARGV[2]), cjson.decode(ARGV[4]))
local raw = redis.call('HGET', S.overrides, ARGV[3])
if not raw then return 0 end
return #cjson.decode(raw)
