--[[
  Removes one seeded record (rules/seeded-records.ts) for good: marks it deleted, so the site file never
  brings it back, and drops it from the id index and, when the records have one, from the lookup.

  KEYS[1]  the records hash: id → document (JSON)
  KEYS[2]  the origins hash: id → site | api | deleted
  KEYS[3]  the ids sorted set
  KEYS[4]  optional: the lookup hash, value of one field → id
  ARGV[1]  the id
  ARGV[2]  the document's field the lookup is by; '' without a lookup

  Reply: 1 when a record was removed, 0 when there was none (it is marked deleted all the same).
]]
local id = ARGV[1]
local old = redis.call('HGET', KEYS[1], id)
redis.call('HSET', KEYS[2], id, 'deleted')
redis.call('ZREM', KEYS[3], id)
if not old then return 0 end
redis.call('HDEL', KEYS[1], id)
if KEYS[4] then
  local before = cjson.decode(old)[ARGV[2]]
  if type(before) == 'string' and redis.call('HGET', KEYS[4], before) == id then
    redis.call('HDEL', KEYS[4], before)
  end
end
return 1
