--[[
  A connection ended: a clean session frees its client id, a persistent one keeps it for its owner with no
  connection. Nothing happens when another connection holds the id now (a takeover, on this node or another).

  KEYS[1]  the client ids hash (see claim-client-id.lua)
  ARGV[1]  the client id
  ARGV[2]  the connection that ended, "<node id>/<n>"

  Reply: 1 when released, 0 when the id was not this connection's.
]]
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return 0 end
local held = cjson.decode(current)
if held.holder ~= ARGV[2] then return 0 end
if held.persistent then
  held.holder = ''
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(held))
else
  redis.call('HDEL', KEYS[1], ARGV[1])
end
return 1
