--[[
  Creates a notification's record unless it exists, with its indexes, in one atomic step: the newest
  list (trimmed), the ticket's list and, for a customer's, their history (a message entry, and the ticket's
  entry the first time it concerns them), trimmed to its bound.

  KEYS[1]  the record
  KEYS[2]  the newest notifications of every ticket
  KEYS[3]  the ticket's notifications (written only when ARGV[5] is '1')
  KEYS[4]  the customer's history (written only when ARGV[6] is not '')
  ARGV[1]  the notification id
  ARGV[2]  the record (JSON)
  ARGV[3]  when it was queued (epoch ms), the score everywhere
  ARGV[4]  how many of the newest the newest list keeps
  ARGV[5]  '1' when the notification is about a ticket
  ARGV[6]  the history's message member, '' when not a customer's
  ARGV[7]  the history's ticket member, '' when none
  ARGV[8]  how many entries the history keeps

  Reply: 1 when created, 0 when the record existed (nothing written).
]]
if redis.call('SET', KEYS[1], ARGV[2], 'NX') == false then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[4]) - 1)
if ARGV[5] == '1' then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1]) end
if ARGV[6] ~= '' then
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[6])
  if ARGV[7] ~= '' then redis.call('ZADD', KEYS[4], 'NX', ARGV[3], ARGV[7]) end
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -tonumber(ARGV[8]) - 1)
end
return 1
