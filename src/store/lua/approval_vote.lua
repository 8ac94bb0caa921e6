-- approval_vote.lua: count one person's vote on a runbook approval request, atomically.
-- The request turns `approved` exactly once (the caller that sees 'approved' runs the runbook);
-- a Reject from any eligible approver cancels it; the requester's own vote never counts.
-- KEYS: the keys declared for this script in scripts.ts, read by name (S.<name>); other keys from K
-- ARGV[1] prefix ARGV[2] now ARGV[3] token ARGV[4] voter name ARGV[5] voter telegram id
-- ARGV[6] vote y|n ARGV[7] chat id the button was pressed in
-- Returns { outcome, approvals so far, needed } with outcome
--   expired | done:<state> | wrong_chat | self | dup | rejected | counted | approved
local k = S.approval
if redis.call('EXISTS', k) == 0 then return { 'expired', 0, 0 } end
local st = redis.call('HGET', k, 'state')
local needed = tonumber(redis.call('HGET', k, 'needed'))
local approvals = cjson.decode(redis.call('HGET', k, 'approvals') or '[]')
if st ~= 'pending' then return { 'done:' .. st, #approvals, needed } end
if tonumber(redis.call('HGET', k, 'expires_at')) <= tonumber(ARGV[2]) then return { 'expired', #approvals, needed } end
if redis.call('HGET', k, 'chat_id') ~= ARGV[7] then return { 'wrong_chat', #approvals, needed } end
if redis.call('HGET', k, 'requester_id') == ARGV[5] then return { 'self', #approvals, needed } end
for _, a in ipairs(approvals) do
  if a.id == ARGV[5] then return { 'dup', #approvals, needed } end
end
if ARGV[6] == 'n' then
  redis.call('HSET', k, 'state', 'rejected', 'decided_by', ARGV[4], 'decided_at', ARGV[2])
  return { 'rejected', #approvals, needed }
end
table.insert(approvals, { id = ARGV[5], name = ARGV[4], at = tonumber(ARGV[2]) })
redis.call('HSET', k, 'approvals', cjson.encode(approvals))
if #approvals >= needed then
  redis.call('HSET', k, 'state', 'approved', 'decided_at', ARGV[2])
  return { 'approved', #approvals, needed }
end
return { 'counted', #approvals, needed }
