import type { Location } from '../config/index.ts'

const earthRadiusKm = 6371

/** Great-circle distance (haversine), in km. */
export function distanceKm(from: Location, to: Location): number {
  const rad = Math.PI / 180
  const dLat = (to.lat - from.lat) * rad
  const dLon = (to.lon - from.lon) * rad
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(from.lat * rad) * Math.cos(to.lat * rad) * Math.sin(dLon / 2) ** 2
  return 2 * earthRadiusKm * Math.asin(Math.min(1, Math.sqrt(h)))
}

/** The positions of a walk from `from` to `to`, one per `stepMs` at `speedKmh`, ending on `to`. */
export function walkSteps({
  from,
  to,
  speedKmh,
  stepMs,
}: {
  from: Location
  to: Location
  speedKmh: number
  stepMs: number
}): Location[] {
  const stepKm = (speedKmh * stepMs) / 3_600_000
  const steps = Math.max(1, Math.ceil(distanceKm(from, to) / stepKm))
  const round = (value: number) => Math.round(value * 1e6) / 1e6
  return Array.from({ length: steps }, (_, i) => {
    const f = (i + 1) / steps
    return { lat: round(from.lat + (to.lat - from.lat) * f), lon: round(from.lon + (to.lon - from.lon) * f) }
  })
}
