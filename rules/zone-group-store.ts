import { readFileSync } from 'node:fs'
import type { Redis, Result } from 'ioredis'
import type { Rule } from '../config/index.ts'
import type { RuleKeys } from './keys.ts'
import type { GroupChange } from './zone-groups.ts'

// Members of a group live on several shards, so several workers: one script judges each change atomically.
const memberScript = readFileSync(new URL('./scripts/group-member.lua', import.meta.url), 'utf8')

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** rules/scripts/group-member.lua */
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
