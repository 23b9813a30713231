import type { Redis } from 'ioredis'
import type { Location, Site, Technician } from '../config/index.ts'
import { isWithinClockRange } from '../config/index.ts'
import type { RuleKeys } from './keys.ts'
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

/** Where a technician's record came from: the site file, the API (kept across restarts), or deleted. */
type Origin = 'site' | 'api' | 'deleted'

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
  const parse = (doc: string | null | undefined): Technician | null =>
    doc ? (JSON.parse(doc) as Technician) : null

  async function get(id: string): Promise<Technician | null> {
    return parse(await redis.hget(keys.technicians, id))
  }

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
      for (const technician of technicians) {
        const origin = (await redis.hget(keys.technicianOrigins, technician.id)) as Origin | null
        if (origin === 'api' || origin === 'deleted') continue
        await redis
          .multi()
          .hset(keys.technicians, technician.id, JSON.stringify(technician))
          .hset(keys.technicianOrigins, technician.id, 'site')
          .exec()
        await place(technician, { keepLive: true })
      }
    },

    get,

    /** A new technician; false when the id is taken. */
    create: async (technician: Technician): Promise<boolean> => {
      if ((await redis.hsetnx(keys.technicians, technician.id, JSON.stringify(technician))) !== 1)
        return false
      await redis.hset(keys.technicianOrigins, technician.id, 'api')
      await place(technician, { keepLive: false })
      return true
    },

    /** Replaces a technician's record; their live position and availability stay. False when unknown. */
    replace: async (technician: Technician): Promise<boolean> => {
      const replaced = await redis.eval(
        "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) redis.call('HSET', KEYS[2], ARGV[1], 'api') return 1",
        2,
        keys.technicians,
        keys.technicianOrigins,
        technician.id,
        JSON.stringify(technician),
      )
      if (replaced !== 1) return false
      await place(technician, { keepLive: true })
      return true
    },

    /** Removes a technician: no new offers; an offer already out expires as usual. False when unknown. */
    remove: async (id: string): Promise<boolean> => {
      const [[, removed] = []] =
        (await redis
          .multi()
          .hdel(keys.technicians, id)
          .zrem(keys.technicianPositions, id)
          .hdel(keys.technicianAvailability, id)
          .hset(keys.technicianOrigins, id, 'deleted')
          .exec()) ?? []
      return removed === 1
    },

    /** Every technician with their live position and availability. */
    list: async (): Promise<(Technician & { position: Location | null; availableNow: boolean })[]> => {
      const all = Object.values(await redis.hgetall(keys.technicians))
        .map((doc) => JSON.parse(doc) as Technician)
        .sort((a, b) => a.id.localeCompare(b.id))
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
      const records = found.length ? await redis.hmget(keys.technicians, ...found.map(([id]) => id)) : []
      const candidates: Candidate[] = []
      for (const [i, [id, distance]] of found.entries()) {
        const technician = parse(records[i])
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
