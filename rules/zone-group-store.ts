import type { Redis, Result } from 'ioredis'
import type { Rule } from '../config/index.ts'
import type { RuleKeys } from './keys.ts'
import type { GroupChange } from './zone-groups.ts'

// Members of a group live on several shards, so several workers: one script judges each change atomically,
// by the same law as applyMember in zone-groups.ts (the dry run's), and flips the group's open flag once.
const memberScript = `
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
`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    vigieGroupMember(
      members: string,
      flag: string,
      device: string,
      raised: '0' | '1',
      at: number,
      atLeast: number,
      within: number,
    ): Result<string, Context>
  }
}

export type ZoneGroupStore = ReturnType<typeof createZoneGroupStore>

/** The live counterpart of zone-groups.ts: group members and the open flag in Redis, shared by every worker. */
export function createZoneGroupStore({ redis, keys }: { redis: Redis; keys: RuleKeys }) {
  redis.defineCommand('vigieGroupMember', { numberOfKeys: 2, lua: memberScript })

  return {
    /** One member raised or cleared; says whether the group's incident opens or clears. */
    member: async ({
      rule,
      groupKey,
      device,
      raised,
      at,
    }: {
      rule: Rule
      groupKey: string
      device: string
      raised: boolean
      at: number
    }): Promise<GroupChange> => {
      if (!rule.group) return null
      const change = await redis.vigieGroupMember(
        keys.groupMembers(groupKey),
        keys.groupOpen(groupKey),
        device,
        raised ? '1' : '0',
        at,
        rule.group.atLeast,
        rule.group.within,
      )
      return change === 'open' || change === 'clear' ? change : null
    },
  }
}
