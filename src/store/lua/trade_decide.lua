-- trade_decide.lua: one press of Accept or Decline on a /cover or /swap request, atomically.
-- A request is accepted exactly once (of concurrent presses one wins, the others see 'done:accepted');
-- accepting writes its overrides into the same store /override uses, in the same step.
-- KEYS: the keys declared for this script in scripts.ts, read by name (S.<name>); other keys from K
-- ARGV[1] prefix ARGV[2] now ARGV[3] request id ARGV[4] person name ARGV[5] telegram id
-- ARGV[6] decision y|n
-- The request hash (src/escalation/trades.ts) holds: state, kind cover|swap, schedule,
--   requester_id, owner, candidates (JSON names), declined (JSON names), expires_at, from, to
--   and, for a swap, from2, to2, other.
-- Returns outcome: gone | done:<state> | expired | self | forbidden | accepted | declined | declined_one
local now = tonumber(ARGV[2])
local k = S.trade
local who = ARGV[4]
if redis.call('EXISTS', k) == 0 then return 'gone' end
local st = redis.call('HGET', k, 'state')
if st ~= 'pending' then return 'done:' .. st end
if tonumber(redis.call('HGET', k, 'expires_at')) <= now then return 'expired' end
if redis.call('HGET', k, 'requester_id') == ARGV[5] then return 'self' end
local candidates = cjson.decode(redis.call('HGET', k, 'candidates'))
local allowed = false
for _, c in ipairs(candidates) do
  if c == who then allowed = true end
end
if not allowed then return 'forbidden' end

if ARGV[6] == 'n' then
  local declined = cjson.decode(redis.call('HGET', k, 'declined') or '[]')
  local seen = false
  for _, d in ipairs(declined) do
    if d == who then seen = true end
  end
  if not seen then table.insert(declined, who) end
  redis.call('HSET', k, 'declined', cjson.encode(declined))
  if #declined >= #candidates then
    redis.call('HSET', k, 'state', 'declined', 'decided_by', who, 'decided_at', now)
    return 'declined'
  end
  return 'declined_one'
end

local kind = redis.call('HGET', k, 'kind')
local schedule = redis.call('HGET', k, 'schedule')
local owner = redis.call('HGET', k, 'owner')
local from = tonumber(redis.call('HGET', k, 'from'))
local to = tonumber(redis.call('HGET', k, 'to'))
local added = {}
if kind == 'cover' then
  -- cover starts when accepted if the asked-for time has already begun
  if from < now then from = now end
  if to <= from then return 'expired' end
  table.insert(added, { person = who, from = from, to = to, kind = 'cover', ['for'] = owner })
else
  local other = redis.call('HGET', k, 'other')
  local from2 = tonumber(redis.call('HGET', k, 'from2'))
  local to2 = tonumber(redis.call('HGET', k, 'to2'))
  table.insert(added, { person = other, from = from, to = to, kind = 'swap', ['for'] = owner })
  table.insert(added, { person = owner, from = from2, to = to2, kind = 'swap', ['for'] = other })
end
overrides_append(schedule, now, added)
redis.call('HSET', k, 'state', 'accepted', 'decided_by', who, 'decided_at', now,
  'applied_from', from)
return 'accepted'
