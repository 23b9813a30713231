import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Redis, Result } from 'ioredis'
import type { Rule } from '../config/index.ts'
import { eventsMaxLength, type IncidentEvent } from './events.ts'
import type { RuleKeys } from './keys.ts'
import { type Incident, incidentSchema } from './record-schemas.ts'
import { readSortedSetPage, type SortedSetPosition } from './sorted-set-page.ts'

// Opening is one atomic step: the correlation key is claimed only if no incident is active under it.
const openScript = readFileSync(new URL('./scripts/open-incident.lua', import.meta.url), 'utf8')

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** rules/scripts/open-incident.lua */
    vigieOpenIncident(
      active: string,
      doc: string,
      index: string,
      events: string,
      id: string,
      json: string,
      score: number,
      event: string,
      maxLength: number,
    ): Result<number, Context>
  }
}

export type IncidentStore = ReturnType<typeof createIncidentStore>

export function createIncidentStore({ redis, keys }: { redis: Redis; keys: RuleKeys }) {
  redis.defineCommand('vigieOpenIncident', { numberOfKeys: 4, lua: openScript })

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
      const opened = await redis.vigieOpenIncident(
        keys.activeIncident(correlationKey),
        keys.incident(incident.id),
        keys.incidents,
        keys.events,
        incident.id,
        json,
        at,
        event('incident.opened', incident, at),
        eventsMaxLength,
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
