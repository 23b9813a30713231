--[[
  Writes one device command with its indexes, its event and (when new) its outbox entry, in one atomic step,
  only if nobody changed it since it was read (compare-and-swap on the document). A new command past the
  device's cap removes the device's oldest finished commands, never a queued or sent one.

  KEYS[1]  the command document
  KEYS[2]  the device's commands (sorted set by creation time)
  KEYS[3]  the pending commands by expiry (sorted set)
  KEYS[4]  the events stream
  KEYS[5]  the command outbox stream
  KEYS[6]  the device's finished commands (sorted set by creation time)
  ARGV[1]  the document as it was read; '' when it must not exist yet
  ARGV[2]  the new document
  ARGV[3]  the command's id
  ARGV[4]  its creation time (ms), the device indexes' score
  ARGV[5]  its expiry (ms), or '' once settled: it leaves the expiry index for the finished one
  ARGV[6]  the event (JSON)
  ARGV[7]  the events stream's MAXLEN (approximate)
  ARGV[8]  the topic to publish on, or '' (only a new command is published)
  ARGV[9]  the payload to publish
  ARGV[10] the commands kept per device (DEVICE_COMMANDS_KEPT)
  ARGV[11] the command documents' key prefix: command c's document is ARGV[11] .. c

  Reply: 1 when written, 0 when the document had changed (nothing written).
]]
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
if ARGV[5] == '' then
  redis.call('ZREM', KEYS[3], ARGV[3])
  redis.call('ZADD', KEYS[6], ARGV[4], ARGV[3])
else
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[3])
end
redis.call('XADD', KEYS[4], 'MAXLEN', '~', ARGV[7], '*', 'e', ARGV[6])
if ARGV[8] ~= '' then
  redis.call('XADD', KEYS[5], 'MAXLEN', '~', 100000, '*', 't', ARGV[8], 'p', ARGV[9])
end
-- Only a new command adds to the device's count, so only one trims it.
if ARGV[1] == '' then
  local excess = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[10])
  if excess > 0 then
    local oldest = redis.call('ZRANGE', KEYS[6], 0, excess - 1)
    for _, id in ipairs(oldest) do
      redis.call('DEL', ARGV[11] .. id)
      redis.call('ZREM', KEYS[2], id)
      redis.call('ZREM', KEYS[6], id)
    end
  end
end
return 1
