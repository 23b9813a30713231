import type { Redis } from 'ioredis'
import type { Location, Site, Technician } from '../config/index.ts'
import { isWithinClockRange, technicianRecordSchema } from '../config/index.ts'
import type { RuleKeys } from './keys.ts'
import { createSeededRecords } from './seeded-records.ts'
import { localTime } from './site-clock.ts'

/** Technicians as dispatch sees them: records in Redis (site file and API), live positions and availability. */
export type TechnicianRoster = ReturnType<typeof createTechnicianRoster>

export type Candidate = { technician: Technician; distanceKm: number; load: number }

export function isOnShift(technician: Technician, at: number, timeZone: string): boolean {
  if (!technician.shift) return true
  const { minute, weekday } = localTime(at, timeZone)
  const days: readonly string[] = technician.shift.days
  const { from, to } = technician.shift.hours
  // A night shift that began yesterday still counts today before its end.
  if (from > to && minute < to) {
    const yesterday = localTime(at - 86_400_000, timeZone).weekday
    return days.includes(yesterday)
  }
  return days.includes(weekday) && isWithinClockRange(technician.shift.hours, minute)
}

export function createTechnicianRoster({
  redis,
  keys,
  technicians,
}: {
  redis: Redis
  keys: RuleKeys
  /** The site file's: they seed the store, unless the API created, changed or deleted them since. */
  technicians: Technician[]
}) {
  const records = createSeededRecords({
    redis,
    key: keys.technicians,
    originsKey: keys.technicianOrigins,
    schema: technicianRecordSchema,
    fromSiteFile: technicians,
    lookup: { key: keys.technicianByPhone, field: 'phone' },
  })

  async function place(technician: Technician, { keepLive }: { keepLive: boolean }): Promise<void> {
    if (technician.location) {
      const known = keepLive ? (await redis.geopos(keys.technicianPositions, technician.id))[0] : null
      if (!known)
        await redis.geoadd(
          keys.technicianPositions,
          technician.location.lon,
          technician.location.lat,
          technician.id,
        )
    }
    if (keepLive)
      await redis.hsetnx(keys.technicianAvailability, technician.id, technician.available ? '1' : '0')
    else await redis.hset(keys.technicianAvailability, technician.id, technician.available ? '1' : '0')
  }

  return {
    /** Writes the site file's technicians, except those the API took over; live positions are kept. */
    seed: async (): Promise<void> => {
      for (const technician of await records.seed()) await place(technician, { keepLive: true })
    },

    get: records.get,

    /** The technician with this phone number, through the technician-by-phone index: no scan per SMS. */
    byPhone: records.find,

    /** A new technician; false when the id is taken. */
    create: async (technician: Technician): Promise<boolean> => {
      if (!(await records.create(technician))) return false
      await place(technician, { keepLive: false })
      return true
    },

    /** Replaces a technician's record; their live position and availability stay. False when unknown. */
    replace: async (technician: Technician): Promise<boolean> => {
      if (!(await records.replace(technician))) return false
      await place(technician, { keepLive: true })
      return true
    },

    /** Removes a technician: no new offers; an offer already out expires as usual. False when unknown. */
    remove: async (id: string): Promise<boolean> => {
      if (!(await records.remove(id))) return false
      await redis.multi().zrem(keys.technicianPositions, id).hdel(keys.technicianAvailability, id).exec()
      return true
    },

    /** Every technician with their live position and availability. */
    list: async (): Promise<(Technician & { position: Location | null; availableNow: boolean })[]> => {
      const all = await records.all()
      const ids = all.map((t) => t.id)
      const positions = ids.length ? await redis.geopos(keys.technicianPositions, ...ids) : []
      const availability = await redis.hgetall(keys.technicianAvailability)
      return all.map((technician, i) => {
        const at = positions[i]
        const position = at?.[0] && at[1] ? { lon: Number(at[0]), lat: Number(at[1]) } : null
        return {
          ...technician,
          position,
          availableNow: (availability[technician.id] ?? (technician.available ? '1' : '0')) === '1',
        }
      })
    },

    setLocation: async (id: string, location: Location): Promise<void> => {
      await redis.geoadd(keys.technicianPositions, location.lon, location.lat, id)
    },

    setAvailable: async (id: string, available: boolean): Promise<void> => {
      await redis.hset(keys.technicianAvailability, id, available ? '1' : '0')
    },

    /** Qualified technicians near a place, nearest first, then least loaded (DESIGN.md § dispatch). */
    candidates: async ({
      at,
      place,
      skill,
      site,
      exclude,
      loads,
    }: {
      at: number
      place: Location
      skill: string | undefined
      site: Site
      exclude: Set<string>
      /** Unfinished tickets per technician. */
      loads: Map<string, number>
    }): Promise<Candidate[]> => {
      const found = (await redis.geosearch(
        keys.technicianPositions,
        'FROMLONLAT',
        place.lon,
        place.lat,
        'BYRADIUS',
        100,
        'km',
        'ASC',
        'WITHDIST',
      )) as [string, string][]
      const availability = await redis.hgetall(keys.technicianAvailability)
      const docs = found.length ? await redis.hmget(keys.technicians, ...found.map(([id]) => id)) : []
      const candidates: Candidate[] = []
      for (const [i, [id, distance]] of found.entries()) {
        const technician = records.parse(docs[i])
        if (!technician || exclude.has(id) || availability[id] === '0') continue
        if (skill !== undefined && !technician.skills.includes(skill)) continue
        if (!isOnShift(technician, at, site.timezone)) continue
        candidates.push({ technician, distanceKm: Number(distance), load: loads.get(id) ?? 0 })
      }
      // Within 50 m two technicians are equally near: the less loaded goes first.
      return candidates.sort((a, b) =>
        Math.abs(a.distanceKm - b.distanceKm) < 0.05 ? a.load - b.load : a.distanceKm - b.distanceKm,
      )
    },
  }
}
