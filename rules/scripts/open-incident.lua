--[[
  Opens an incident in one atomic step: the correlation key is claimed only if no incident is active under
  it; then the document, the index by opening time and the incident.opened event are written, and, for a
  device's incident, the device's own indexes (the newest ARGV[6] by opening time, and those still active).

  KEYS[1]  the correlation key's active incident (its id)
  KEYS[2]  the incident document
  KEYS[3]  every incident by opening time
  KEYS[4]  the events stream
  KEYS[5]  optional: the device's incidents by opening time (absent for a zone-wide incident)
  KEYS[6]  optional, with KEYS[5]: the device's incidents still active
  ARGV[1]  the incident id
  ARGV[2]  the incident document (JSON)
  ARGV[3]  the opening time (epoch ms), its score
  ARGV[4]  the incident.opened event (JSON)
  ARGV[5]  the events stream's MAXLEN (approximate)
  ARGV[6]  with KEYS[5]: how many of the device's incidents its index keeps, the newest

  Reply: 1 when opened, 0 when an incident was active under the key already (nothing written).
]]
if redis.call('SET', KEYS[1], ARGV[1], 'NX') == false then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], '*', 'e', ARGV[4])
if KEYS[5] then
  redis.call('ZADD', KEYS[5], ARGV[3], ARGV[1])
  -- Ranks 0 .. -(kept + 1) are all but the newest `kept`: an empty range while the index holds fewer.
  redis.call('ZREMRANGEBYRANK', KEYS[5], 0, -(tonumber(ARGV[6]) + 1))
  redis.call('SADD', KEYS[6], ARGV[1])
end
return 1
