--[[
  Claims an MQTT client id for an identity across broker nodes (broker/shared-client-ids.ts): the id is free,
  already this owner's, or held only by a clean session on a node whose lease ended (a node that died).

  KEYS[1]  the client ids hash: client id → {"owner", "holder" ("<node id>/<n>", "" when offline), "persistent"}
  KEYS[2]  the nodes hash: node id → when its lease ends (ms)
  ARGV[1]  the client id
  ARGV[2]  the owner claiming it
  ARGV[3]  the connection claiming it, "<node id>/<n>"
  ARGV[4]  "1" when its session is persistent (clean = false)
  ARGV[5]  now (ms)

  Reply: "" when claimed (the entry now names this connection), else the owner that holds the id.
]]
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local held = cjson.decode(current)
  if held.owner ~= ARGV[2] then
    if held.persistent then return held.owner end
    local node = string.match(held.holder, '^(.*)/[^/]*$')
    local ends = node and tonumber(redis.call('HGET', KEYS[2], node) or '0') or 0
    if ends > tonumber(ARGV[5]) then return held.owner end
  end
end
redis.call('HSET', KEYS[1], ARGV[1],
  cjson.encode({ owner = ARGV[2], holder = ARGV[3], persistent = ARGV[4] == '1' }))
return ''
