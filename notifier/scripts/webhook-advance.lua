--[[
  The head of a ticket's list is done (delivered, failed for good, or its webhook gone): it leaves the
  list, and the next entry, if any, gets a new owner job. Only the owner job may do this, so a stale job
  (one replaced by a resume) changes nothing.

  KEYS[1]  the list
  KEYS[2]  the list's owner
  KEYS[3]  the set of the webhook's order keys with a list
  KEYS[4]  the webhook's job counter
  ARGV[1]  the job id that handled the head
  ARGV[2]  the head entry it handled
  ARGV[3]  the order key
  ARGV[4]  the job id stem ("wh-<webhook>-")

  Reply: {advanced (0|1), next owner job id or false, next head entry or false}
]]
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {0, false, false} end
if redis.call('LINDEX', KEYS[1], 0) == ARGV[2] then redis.call('LPOP', KEYS[1]) end
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then
  redis.call('DEL', KEYS[2])
  redis.call('SREM', KEYS[3], ARGV[3])
  return {1, false, false}
end
local owner = ARGV[4] .. head .. '-' .. redis.call('INCR', KEYS[4])
redis.call('SET', KEYS[2], owner)
return {1, owner, head}
