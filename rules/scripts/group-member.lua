--[[
  One member of a zone-wide rule's group raised or cleared, judged atomically (members of a group live on
  several shards, so several workers), by the same law as applyMember in rules/zone-groups.ts (the dry
  run's); the group's open flag flips once.

  KEYS[1]  the group's members: device → when it raised (epoch ms)
  KEYS[2]  the group's open flag
  ARGV[1]  the device
  ARGV[2]  '1' when it raised, '0' when it cleared
  ARGV[3]  when (epoch ms)
  ARGV[4]  the rule's group.atLeast
  ARGV[5]  the rule's group.within (ms)

  Reply: 'open' when the group's incident opens, 'clear' when it clears, '' otherwise.
]]
local members, flag = KEYS[1], KEYS[2]
local device, raised, at = ARGV[1], ARGV[2] == '1', tonumber(ARGV[3])
local atLeast, within = tonumber(ARGV[4]), tonumber(ARGV[5])
if raised then redis.call('HSET', members, device, at) else redis.call('HDEL', members, device) end
local since = redis.call('HVALS', members)
local recent = 0
for _, s in ipairs(since) do if at - tonumber(s) <= within then recent = recent + 1 end end
local open = redis.call('EXISTS', flag) == 1
if not open and raised and recent >= atLeast then redis.call('SET', flag, at) return 'open' end
if open and #since < atLeast then redis.call('DEL', flag) return 'clear' end
return ''
