import type { Location, Technician } from '../config/index.ts'
import { isOnShift } from '../rules/index.ts'
import type { Random } from './seeded-random.ts'

export type Choice = { technician: Technician; distanceKm: number }
export type DispatchChoice = ReturnType<typeof createDispatchChoice>

const earthKm = 6371.0088
const radians = (degrees: number) => (degrees * Math.PI) / 180

/** Great-circle distance, as Redis GEO measures it. */
export function distanceKm(a: Location, b: Location): number {
  const dLat = radians(b.lat - a.lat)
  const dLon = radians(b.lon - a.lon)
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(radians(a.lat)) * Math.cos(radians(b.lat)) * Math.sin(dLon / 2) ** 2
  return 2 * earthKm * Math.asin(Math.sqrt(h))
}

type Shape = { shift: Technician; members: Technician[] }

/**
 * Whom dispatch would offer a ticket to, worked out in memory as the roster's candidates are: qualified,
 * on shift, not offered it before, nearest first. The nearest is not always free (a load, a break), so
 * one time in three one of the next two gets it. Reading 200 technicians from Redis for each of 130,000
 * offers would make the year take hours, and the history only needs the answer.
 */
export function createDispatchChoice({
  technicians,
  timeZone,
}: {
  technicians: Technician[]
  timeZone: string
}) {
  // Technicians share a few shapes of shift: each is tested once a minute, not once per technician.
  const byShape = new Map<string, Shape>()
  for (const technician of technicians.filter((t) => t.location)) {
    const key = JSON.stringify(technician.shift ?? null)
    const shape = byShape.get(key) ?? { shift: technician, members: [] }
    shape.members.push(technician)
    byShape.set(key, shape)
  }
  const shapes = [...byShape.values()]
  const onShiftAt = new Map<number, Shape[]>()
  const onShift = (at: number): Shape[] => {
    const minute = Math.floor(at / 60_000)
    let found = onShiftAt.get(minute)
    if (!found) {
      if (onShiftAt.size > 10_000) onShiftAt.clear()
      found = shapes.filter((shape) => isOnShift(shape.shift, at, timeZone))
      onShiftAt.set(minute, found)
    }
    return found
  }

  return {
    choose: ({
      at,
      place,
      skill,
      exclude,
      random,
    }: {
      at: number
      place: Location
      skill: string | undefined
      exclude: ReadonlySet<string>
      random: Random
    }): Choice | null => {
      // The three nearest, kept in order as the qualified technicians go by.
      const nearest: Choice[] = []
      for (const shape of onShift(at))
        for (const technician of shape.members) {
          if (exclude.has(technician.id) || (skill !== undefined && !technician.skills.includes(skill)))
            continue
          const choice = { technician, distanceKm: distanceKm(place, technician.location as Location) }
          const rank = nearest.findIndex((c) => choice.distanceKm < c.distanceKm)
          if (rank === -1) {
            if (nearest.length < 3) nearest.push(choice)
          } else {
            nearest.splice(rank, 0, choice)
            if (nearest.length > 3) nearest.pop()
          }
        }
      if (nearest.length === 0) return null
      const rank = random.chance(2 / 3) ? 0 : random.int(1, 2)
      return nearest[Math.min(rank, nearest.length - 1)] ?? null
    },
  }
}
