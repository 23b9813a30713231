--[[
  Deletes a key only while it holds the expected value: a lease released by its owner, a claim freed by
  whoever made it, never one another process holds since.

  KEYS[1]  the key
  ARGV[1]  the value it must hold

  Reply: 1 when deleted, 0 when it held something else or nothing (nothing written).
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
