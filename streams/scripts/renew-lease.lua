--[[
  Extends a lease only for its owner: a lease that expired and was taken by another is not taken back.

  KEYS[1]  the lease (its value is the owner's token)
  ARGV[1]  the owner's token
  ARGV[2]  the new time to live (ms)

  Reply: 1 when extended, 0 when the lease is not this owner's (nothing written).
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
