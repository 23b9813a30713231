--[[
  Writes one ticket, its events and every index, counter and KPI sum it moves, in one atomic step, only if
  nobody changed the ticket since it was read (compare-and-swap on the document).

  KEYS[1]    the ticket document
  KEYS[2]    the events stream
  KEYS[3..]  the keys the ops name by index
  ARGV[1]    the document as it was read; '' when it must not exist yet
  ARGV[2]    the new document
  ARGV[3]    the events stream's MAXLEN (approximate)
  ARGV[4]    how many ops follow
  ARGV[5..]  4 per op: command (ZADD, ZREM, SADD, SREM, HINCRBY, ZREMRANGEBYRANK, CLAIM), key index, then
             ZADD: score, member | ZREM, SADD, SREM: member, '' | HINCRBY: field, increment |
             ZREMRANGEBYRANK: start, stop | CLAIM: the value to set, '' (the key must not exist yet)
  ARGV[...]  after the ops, one event (JSON) per argument, appended in order

  Reply: 1 when written, 0 when the document had changed, or the value of a CLAIM's key that existed
  already (an external reference's ticket); nothing is written but on 1.
]]
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return 0 end
local ops = tonumber(ARGV[4])
for i = 0, ops - 1 do
  local at = 5 + i * 4
  if ARGV[at] == 'CLAIM' then
    local holder = redis.call('GET', KEYS[tonumber(ARGV[at + 1])])
    if holder then return holder end
  end
end
redis.call('SET', KEYS[1], ARGV[2])
for i = 0, ops - 1 do
  local at = 5 + i * 4
  local command, key, a, b = ARGV[at], KEYS[tonumber(ARGV[at + 1])], ARGV[at + 2], ARGV[at + 3]
  if command == 'CLAIM' then
    redis.call('SET', key, a)
  elseif command == 'ZADD' or command == 'HINCRBY' or command == 'ZREMRANGEBYRANK' then
    redis.call(command, key, a, b)
  else
    redis.call(command, key, a)
  end
end
for i = 5 + ops * 4, #ARGV do
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'e', ARGV[i])
end
return 1
