import type { Redis } from 'ioredis'
import type { Location, Site, Technician } from '../config/index.ts'
import { isWithinClockRange } from '../config/index.ts'
import type { RuleKeys } from './keys.ts'
import { localTime } from './site-clock.ts'

/** Technicians as dispatch sees them: the site file's, with live positions and availability in Redis. */
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
  technicians: Technician[]
}) {
  const byId = new Map(technicians.map((t) => [t.id, t]))

  return {
    /** Puts the site file's positions and availability in Redis, unless live ones are already there. */
    seed: async (): Promise<void> => {
      for (const technician of technicians) {
        if (technician.location) {
          const known = await redis.geopos(keys.technicianPositions, technician.id)
          if (!known[0])
            await redis.geoadd(
              keys.technicianPositions,
              technician.location.lon,
              technician.location.lat,
              technician.id,
            )
        }
        await redis.hsetnx(keys.technicianAvailability, technician.id, technician.available ? '1' : '0')
      }
    },

    get: (id: string): Technician | undefined => byId.get(id),

    /** Every technician with their live position and availability. */
    list: async (): Promise<(Technician & { position: Location | null; availableNow: boolean })[]> => {
      const ids = [...byId.keys()]
      const positions = ids.length ? await redis.geopos(keys.technicianPositions, ...ids) : []
      const availability = await redis.hgetall(keys.technicianAvailability)
      return ids.map((id, i) => {
        const technician = byId.get(id) as Technician
        const at = positions[i]
        const position = at?.[0] && at[1] ? { lon: Number(at[0]), lat: Number(at[1]) } : null
        return {
          ...technician,
          position,
          availableNow: (availability[id] ?? (technician.available ? '1' : '0')) === '1',
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
      const candidates: Candidate[] = []
      for (const [id, distance] of found) {
        const technician = byId.get(id)
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
