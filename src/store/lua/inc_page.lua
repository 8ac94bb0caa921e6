-- inc_page.lua: one page of the read API in one round trip (read-only): the incidents of the given
-- states numbered below the cursor, newest first, each with its hash and the tail of its timeline.
-- KEYS: the keys declared for this script in scripts.ts, read by name (S.<name>); other keys from K
-- ARGV[1] prefix  ARGV[2] upper bound of the incident number ('+inf', or '(N' below the cursor N)
-- ARGV[3] page size  ARGV[4] timeline entries per incident (0: none); KEYS: the states' indexes
-- Returns { next id or '', id1, hash1 (flat HGETALL), timeline length1, last entries1, id2, ... };
-- an indexed id without a hash is left out.
local limit = tonumber(ARGV[3])
local tail = tonumber(ARGV[4])
local rows = {}
for i = 1, #KEYS do
  local r = redis.call('ZREVRANGEBYSCORE', KEYS[i], ARGV[2], '-inf', 'WITHSCORES',
    'LIMIT', 0, limit + 1)
  for k = 1, #r, 2 do rows[#rows + 1] = { r[k], tonumber(r[k + 1]) } end
end
if #KEYS > 1 then table.sort(rows, function(a, b) return a[2] > b[2] end) end
local n = math.min(limit, #rows)
local out = { (#rows > limit and n > 0) and rows[n][1] or '' }
for k = 1, n do
  local id = rows[k][1]
  local h = redis.call('HGETALL', K.incident(id))
  if #h > 0 then
    out[#out + 1] = id
    out[#out + 1] = h
    if tail > 0 then
      out[#out + 1] = redis.call('LLEN', K.timeline(id))
      out[#out + 1] = redis.call('LRANGE', K.timeline(id), -tail, -1)
    else
      out[#out + 1] = 0
      out[#out + 1] = {}
    end
  end
end
return out
