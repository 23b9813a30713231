import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Redis, Result } from 'ioredis'
import type { Rule } from '../config/index.ts'
import { eventsMaxLength, type IncidentEvent } from './events.ts'
import type { RuleKeys } from './keys.ts'
import { replyAt } from './pipeline-replies.ts'
import { type Incident, incidentSchema } from './record-schemas.ts'
import { readSortedSetPage, type SortedSetPosition } from './sorted-set-page.ts'

// Opening is one atomic step: the correlation key is claimed only if no incident is active under it.
const openScript = readFileSync(new URL('./scripts/open-incident.lua', import.meta.url), 'utf8')

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** rules/scripts/open-incident.lua: numberOfKeys, then its KEYS and ARGV. */
    vigieOpenIncident(numberOfKeys: number, ...args: (string | number)[]): Result<number, Context>
  }
}

/** How many of a device's incidents its index keeps, the newest: what a chart of its readings can mark. */
export const deviceIncidentsKept = 1000

// A device's incident cleared by now was opened at most this long before a window to be read from the index;
// one lasting longer is marked only while it stays active (read from the device's active set).
const clearedIncidentLookbackMs = 31 * 86_400_000

/** A device's incidents over a window, oldest first; `truncated` when more overlap than were asked for. */
export type DeviceIncidents = { incidents: Incident[]; truncated: boolean }

export type IncidentStore = ReturnType<typeof createIncidentStore>

export function createIncidentStore({ redis, keys }: { redis: Redis; keys: RuleKeys }) {
  redis.defineCommand('vigieOpenIncident', { lua: openScript })

  const event = (type: IncidentEvent['type'], incident: Incident, at: number): string =>
    JSON.stringify({
      type,
      id: incident.id,
      correlationKey: incident.correlationKey,
      at: new Date(at).toISOString(),
      incident,
    } satisfies IncidentEvent)

  async function active(correlationKey: string): Promise<Incident | null> {
    const id = await redis.get(keys.activeIncident(correlationKey))
    return id ? get(id) : null
  }

  async function get(id: string): Promise<Incident | null> {
    const doc = await redis.get(keys.incident(id))
    return doc ? incidentSchema.parse(JSON.parse(doc)) : null
  }

  async function save(incident: Incident, type: IncidentEvent['type'], at: number): Promise<void> {
    const multi = redis.multi().set(keys.incident(incident.id), JSON.stringify(incident))
    if (type === 'incident.cleared') multi.del(keys.activeIncident(incident.correlationKey))
    if (type === 'incident.cleared' && incident.device !== null)
      multi.srem(keys.activeIncidentsOf(incident.device), incident.id)
    await multi.xadd(keys.events, 'MAXLEN', '~', eventsMaxLength, '*', 'e', event(type, incident, at)).exec()
  }

  return {
    get,
    active,

    /** Opens an incident, or updates the one already active under the same correlation key. */
    raise: async (
      {
        rule,
        correlationKey,
        site,
        zone,
        device,
      }: { rule: Rule; correlationKey: string; site: string; zone: string | null; device: string | null },
      at: number,
      value: unknown,
    ): Promise<Incident> => {
      const when = new Date(at).toISOString()
      const incident: Incident = {
        id: randomUUID(),
        correlationKey,
        rule: rule.id,
        severity: rule.severity,
        site,
        zone,
        device,
        status: 'active',
        openedAt: when,
        updatedAt: when,
        clearedAt: null,
        count: 1,
        lastValue: value ?? null,
      }
      const json = JSON.stringify(incident)
      const keyList = [
        keys.activeIncident(correlationKey),
        keys.incident(incident.id),
        keys.incidents,
        keys.events,
      ]
      // A zone-wide incident (no device) is in no device's index.
      if (device !== null) keyList.push(keys.incidentsOf(device), keys.activeIncidentsOf(device))
      const opened = await redis.vigieOpenIncident(
        keyList.length,
        ...keyList,
        incident.id,
        json,
        at,
        event('incident.opened', incident, at),
        eventsMaxLength,
        deviceIncidentsKept,
      )
      if (opened === 1) return incident
      const current = await active(correlationKey)
      if (!current) return incident
      const updated = { ...current, count: current.count + 1, updatedAt: when, lastValue: value ?? null }
      await save(updated, 'incident.updated', at)
      return updated
    },

    clear: async (correlationKey: string, at: number, value: unknown): Promise<Incident | null> => {
      const current = await active(correlationKey)
      if (!current) return null
      const when = new Date(at).toISOString()
      const cleared: Incident = {
        ...current,
        status: 'cleared',
        clearedAt: when,
        updatedAt: when,
        lastValue: value ?? current.lastValue,
      }
      await save(cleared, 'incident.cleared', at)
      return cleared
    },

    /**
     * Issue 19: a device's incidents that overlap [from, to] (epoch ms), oldest first, at most `limit`: read
     * through the device's indexes, from the lookback before `from`, never every incident.
     */
    ofDevice: async (
      device: string,
      { from, to, limit }: { from: number; to: number; limit: number },
    ): Promise<DeviceIncidents> => {
      const replies = await redis
        .multi()
        .zrangebyscore(keys.incidentsOf(device), from - clearedIncidentLookbackMs, to)
        .smembers(keys.activeIncidentsOf(device))
        .zrange(keys.incidentsOf(device), 0, 0, 'WITHSCORES')
        .zcard(keys.incidentsOf(device))
        .exec()
      const opened = replyAt(replies, 0) as string[]
      const active = replyAt(replies, 1) as string[]
      const oldest = replyAt(replies, 2) as string[]
      const kept = Number(replyAt(replies, 3))
      const ids = [...new Set([...opened, ...active])]
      const docs = ids.length > 0 ? await redis.mget(ids.map(keys.incident)) : []
      const overlapping = docs
        .flatMap((doc) => (doc ? [incidentSchema.parse(JSON.parse(doc))] : []))
        .filter((i) => {
          const openedAt = Date.parse(i.openedAt)
          return openedAt <= to && (i.clearedAt === null || Date.parse(i.clearedAt) >= from)
        })
        .sort((a, b) => Date.parse(a.openedAt) - Date.parse(b.openedAt) || (a.id < b.id ? -1 : 1))
      // A full index whose oldest kept incident opened after `from` may have let go of some in the window.
      const trimmed = kept >= deviceIncidentsKept && Number(oldest?.[1]) > from
      return { incidents: overlapping.slice(0, limit), truncated: overlapping.length > limit || trimmed }
    },

    /** Newest first, from after a position (an incident's score is its opening time). */
    list: async (limit: number, after?: SortedSetPosition): Promise<Incident[]> => {
      const { items } = await readSortedSetPage({
        redis,
        key: keys.incidents,
        order: 'newest',
        limit,
        after,
        load: async (ids) =>
          (await redis.mget(ids.map(keys.incident))).map((doc) =>
            doc ? incidentSchema.parse(JSON.parse(doc)) : null,
          ),
      })
      return items
    },
  }
}
