--[[
  Queues a delivery at the tail of its ticket's list; when the list was empty, names a new job entitled
  to send its head. A delivery whose record exists was queued before (its event read twice): nothing is
  pushed, and the head's owner is answered again so that a job lost in a crash is added once more.

  KEYS[1]  the delivery's record
  KEYS[2]  the list of the ticket (or incident) the delivery belongs to
  KEYS[3]  that list's owner (the id of the job entitled to send its head)
  KEYS[4]  the set of the webhook's order keys with a list
  KEYS[5]  the webhook's job counter
  ARGV[1]  the delivery's record (JSON), written when absent
  ARGV[2]  the list entry: the delivery id, or the delivery id and "r<n>" for a redelivery
  ARGV[3]  the order key
  ARGV[4]  the job id stem ("wh-<webhook>-")
  ARGV[5]  "new" for an event's delivery, "again" for a redelivery (the record must exist)

  Reply: {pushed (0|1), owner job id or false, head entry or false}
]]
if ARGV[5] == 'new' then
  if redis.call('EXISTS', KEYS[1]) == 1 then
    local owner = redis.call('GET', KEYS[3])
    return {0, owner, redis.call('LINDEX', KEYS[2], 0)}
  end
  redis.call('SET', KEYS[1], ARGV[1])
elseif redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, false, false}
end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('SADD', KEYS[4], ARGV[3])
if redis.call('LLEN', KEYS[2]) == 1 then
  local owner = ARGV[4] .. ARGV[2] .. '-' .. redis.call('INCR', KEYS[5])
  redis.call('SET', KEYS[3], owner)
  return {1, owner, ARGV[2]}
end
return {1, false, false}
