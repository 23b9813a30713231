--[[
  Replaces a seeded record only if it exists, and marks it as the API's, in one step: a concurrent delete
  cannot be undone (rules/seeded-records.ts).

  KEYS[1]  the records hash: id → document (JSON)
  KEYS[2]  the origins hash: id → site | api | deleted
  ARGV[1]  the record's id
  ARGV[2]  the new document (JSON)

  Reply: 1 when replaced, 0 when no record has this id (nothing written).
]]
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], 'api')
return 1
