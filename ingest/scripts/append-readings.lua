--[[
  Appends a batch of readings, each atomically: drops a redelivered seq, appends to the shard's log and
  the device's recent readings, updates latest state and last-seen. Seqs are remembered per device, the
  last 64 to 96.

  KEYS[1]            last-seen: device → when (epoch ms)
  KEYS[2]            the running totals for /metrics (field `readings`)
  KEYS[3 + 4i ..]    per reading i: its shard's log, its device's recent seqs, state hash, readings stream
  ARGV[1]            the shard log's MAXLEN (approximate)
  ARGV[2]            a device's readings stream MAXLEN (approximate)
  ARGV[3 + 5i ..]    per reading i: seq ('' for none), the reading (JSON), received at (epoch ms),
                     device id, reading type

  Reply: one number per reading, in order: 1 when appended, 0 when its seq was seen already.
]]
local results = {}
local n = (#KEYS - 2) / 4
local stored = 0
for i = 0, n - 1 do
  local k, a = 2 + i * 4, 2 + i * 5
  local seq, reading, at = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local fresh = true
  if seq ~= '' then
    -- NX adds a seq not seen yet and answers 0 for a redelivered one: one call for the check and the add.
    if redis.call('ZADD', KEYS[k + 2], 'NX', at, seq) == 0 then
      fresh = false
    elseif redis.call('ZCARD', KEYS[k + 2]) > 96 then
      -- Trimmed back to 64 once in 32 readings: a trim is a write the AOF records, a ZCARD is not.
      redis.call('ZREMRANGEBYRANK', KEYS[k + 2], 0, -65)
    end
  end
  if fresh then
    redis.call('XADD', KEYS[k + 1], 'MAXLEN', '~', ARGV[1], '*', 'r', reading)
    redis.call('XADD', KEYS[k + 4], 'MAXLEN', '~', ARGV[2], '*', 'r', reading)
    redis.call('HSET', KEYS[k + 3], 'lastSeen', at, 'last', reading, 'type:' .. ARGV[a + 5], reading)
    redis.call('ZADD', KEYS[1], at, ARGV[a + 4])
    stored = stored + 1
  end
  results[i + 1] = fresh and 1 or 0
end
if stored > 0 then redis.call('HINCRBY', KEYS[2], 'readings', stored) end
return results
