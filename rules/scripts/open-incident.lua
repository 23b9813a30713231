--[[
  Opens an incident in one atomic step: the correlation key is claimed only if no incident is active under
  it; then the document, the index by opening time and the incident.opened event are written.

  KEYS[1]  the correlation key's active incident (its id)
  KEYS[2]  the incident document
  KEYS[3]  every incident by opening time
  KEYS[4]  the events stream
  ARGV[1]  the incident id
  ARGV[2]  the incident document (JSON)
  ARGV[3]  the opening time (epoch ms), its score
  ARGV[4]  the incident.opened event (JSON)
  ARGV[5]  the events stream's MAXLEN (approximate)

  Reply: 1 when opened, 0 when an incident was active under the key already (nothing written).
]]
if redis.call('SET', KEYS[1], ARGV[1], 'NX') == false then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[5], '*', 'e', ARGV[4])
return 1
