--[[
  Names a new owner job for a list's head (a resume after a pause): any job named before for it is then
  stale and sends nothing.

  KEYS[1]  the list
  KEYS[2]  the list's owner
  KEYS[3]  the set of the webhook's order keys with a list
  KEYS[4]  the webhook's job counter
  ARGV[1]  the order key
  ARGV[2]  the job id stem ("wh-<webhook>-")

  Reply: {owner job id, head entry}, or an empty reply when the list is empty
]]
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then
  redis.call('DEL', KEYS[2])
  redis.call('SREM', KEYS[3], ARGV[1])
  return {}
end
local owner = ARGV[2] .. head .. '-' .. redis.call('INCR', KEYS[4])
redis.call('SET', KEYS[2], owner)
return {owner, head}
