--[[
  A broker node says it is alive until a time, and forgets the nodes whose lease ended (their clean sessions'
  client ids are free: claim-client-id.lua reads an absent node as dead).

  KEYS[1]  the nodes hash: node id → when its lease ends (ms)
  ARGV[1]  this node's id
  ARGV[2]  when its lease ends (ms); 0 removes the node (it is closing)
  ARGV[3]  now (ms)

  Reply: the number of dead nodes forgotten.
]]
if ARGV[2] == '0' then
  redis.call('HDEL', KEYS[1], ARGV[1])
else
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
end
local now = tonumber(ARGV[3])
local all = redis.call('HGETALL', KEYS[1])
local forgotten = 0
for i = 1, #all, 2 do
  if tonumber(all[i + 1]) <= now then
    redis.call('HDEL', KEYS[1], all[i])
    forgotten = forgotten + 1
  end
end
return forgotten
