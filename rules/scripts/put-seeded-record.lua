--[[
  Writes one seeded record (rules/seeded-records.ts) with its origin, its place in the id index and, when
  the records have a lookup (technician-by-phone), its lookup entry, in one atomic step: the lookup never
  names a value the record no longer has.

  KEYS[1]  the records hash: id → document (JSON)
  KEYS[2]  the origins hash: id → site | api | deleted
  KEYS[3]  the ids sorted set (scores 0, read in byte order)
  KEYS[4]  optional: the lookup hash, value of one field → id
  ARGV[1]  the id
  ARGV[2]  the document (JSON)
  ARGV[3]  create (only when absent), replace (only when present) or seed (unless the API took it over)
  ARGV[4]  the origin to record: site or api
  ARGV[5]  the document's field the lookup is by; '' without a lookup

  Reply: 1 when written; 0 when not (create: id taken; replace: unknown id; seed: the API's or deleted).
]]
local id, doc, mode = ARGV[1], ARGV[2], ARGV[3]
local old = redis.call('HGET', KEYS[1], id)
if mode == 'create' and old then return 0 end
if mode == 'replace' and not old then return 0 end
if mode == 'seed' then
  local origin = redis.call('HGET', KEYS[2], id)
  if origin == 'api' or origin == 'deleted' then return 0 end
end
redis.call('HSET', KEYS[1], id, doc)
redis.call('HSET', KEYS[2], id, ARGV[4])
redis.call('ZADD', KEYS[3], 0, id)
if KEYS[4] then
  local field = ARGV[5]
  if old then
    local before = cjson.decode(old)[field]
    if type(before) == 'string' and redis.call('HGET', KEYS[4], before) == id then
      redis.call('HDEL', KEYS[4], before)
    end
  end
  local after = cjson.decode(doc)[field]
  if type(after) == 'string' then redis.call('HSET', KEYS[4], after, id) end
end
return 1
