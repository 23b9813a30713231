import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { z } from 'zod'
import type { Clock } from '../domain/index.ts'
import type { RuleKeys } from './keys.ts'

export const maintenanceScopeSchema = z.strictObject({
  site: z.string().min(1).max(64),
  zone: z.string().min(1).max(64).optional(),
  device: z.string().min(1).max(64).optional(),
})

export const maintenanceWindowSchema = z.object({
  id: z.string(),
  scope: maintenanceScopeSchema,
  startsAt: z.string(),
  endsAt: z.string(),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
})
export type MaintenanceWindow = z.infer<typeof maintenanceWindowSchema>

const keepEndedMs = 86_400_000

type Place = { site: string; zone: string | null; device: string | null }

/** A window covers its whole site, or one zone of it, or one device; a zone and a device both narrow it. */
function covers(window: MaintenanceWindow, place: Place, at: number): boolean {
  const { site, zone, device } = window.scope
  return (
    site === place.site &&
    (zone === undefined || zone === place.zone) &&
    (device === undefined || device === place.device) &&
    Date.parse(window.startsAt) <= at &&
    at < Date.parse(window.endsAt)
  )
}

export type MaintenanceWindows = ReturnType<typeof createMaintenanceWindows>

/**
 * Maintenance windows (issue 4): while one covers a device, its new incidents are suppressed. They sit
 * in one Redis hash read afresh each time: only a would-be new incident asks, which is rare, and a
 * window then takes effect in every worker at once.
 */
export function createMaintenanceWindows({
  redis,
  keys,
  clock,
}: {
  redis: Redis
  keys: RuleKeys
  clock: Clock
}) {
  /** Every window kept: an ended one stays a day, for readings that arrive late but were sent during it. */
  async function all(now: number): Promise<MaintenanceWindow[]> {
    const docs = await redis.hvals(keys.maintenanceWindows)
    const windows = docs.map((doc) => maintenanceWindowSchema.parse(JSON.parse(doc)))
    const ended = windows.filter((w) => Date.parse(w.endsAt) <= now - keepEndedMs).map((w) => w.id)
    if (ended.length) await redis.hdel(keys.maintenanceWindows, ...ended)
    return windows.filter((w) => !ended.includes(w.id))
  }

  return {
    create: async (input: {
      scope: z.infer<typeof maintenanceScopeSchema>
      startsAt: number
      endsAt: number
      reason: string
      createdBy: string
    }): Promise<MaintenanceWindow> => {
      const window: MaintenanceWindow = {
        id: randomUUID(),
        scope: input.scope,
        startsAt: new Date(input.startsAt).toISOString(),
        endsAt: new Date(input.endsAt).toISOString(),
        reason: input.reason,
        createdBy: input.createdBy,
        createdAt: new Date(clock.now()).toISOString(),
      }
      await redis.hset(keys.maintenanceWindows, window.id, JSON.stringify(window))
      return window
    },

    /** Windows not yet ended, soonest start first. */
    list: async (filter: { site?: string; activeAt?: number } = {}): Promise<MaintenanceWindow[]> => {
      const { site, activeAt } = filter
      const now = clock.now()
      return (await all(now))
        .filter((w) => Date.parse(w.endsAt) > now)
        .filter((w) => site === undefined || w.scope.site === site)
        .filter((w) => activeAt === undefined || Date.parse(w.startsAt) <= activeAt)
        .sort((a, b) => a.startsAt.localeCompare(b.startsAt))
    },

    get: async (id: string): Promise<MaintenanceWindow | null> => {
      const doc = await redis.hget(keys.maintenanceWindows, id)
      return doc ? maintenanceWindowSchema.parse(JSON.parse(doc)) : null
    },

    /** Ends a window now; false when there was none. */
    remove: async (id: string): Promise<boolean> => (await redis.hdel(keys.maintenanceWindows, id)) === 1,

    /** The window covering this place at this time, if any. */
    covering: async (place: Place, at: number): Promise<MaintenanceWindow | null> =>
      (await all(clock.now())).find((w) => covers(w, place, at)) ?? null,
  }
}
