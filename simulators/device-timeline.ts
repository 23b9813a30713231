import type { Site } from '../config/index.ts'
import type { ReadingPayload } from '../domain/index.ts'
import {
  badgeOf,
  batteryAt,
  type Heat,
  heatedCelsius,
  jitteredGap,
  nextBadgedOpening,
  normalCelsius,
} from './behaviours.ts'
import { createRandom } from './random.ts'
import type { SimDevice } from './sim-device.ts'

/** One reading as published: the device and its payload, `ts` (epoch ms) and `seq` always set. */
export type SimReading = { device: string; payload: ReadingPayload & { ts: number; seq: number } }

/** How often a device speaks: its periodic state reading and its heartbeat. */
export type Pace = { readingEveryMs: number; heartbeatEveryMs: number }

/** What a scenario does to one device; the timeline turns it into readings. */
export type DeviceChange =
  | { type: 'door-hold' }
  | { type: 'door-force' }
  | { type: 'door-release' }
  | { type: 'heat'; target: number }
  | { type: 'cool' }
  | { type: 'aed-take' }
  | { type: 'aed-return' }
  | { type: 'power-off' }
  | { type: 'power-on' }
  /** Issue 19's `lock` command: a door closes and opens for no badge before `until`. */
  | { type: 'door-lock'; until: number }
  /** Issue 19's `reboot` command: the device says at once how it is. */
  | { type: 'reboot' }

type Door = { open: boolean; badge: string | null; stuck: boolean }

const never = Number.POSITIVE_INFINITY

/**
 * One device's life as a sequence of timed events (periodic reading, heartbeat, door opened and closed),
 * all drawn from the device's own PRNG: the readings depend on the seed, the device and the times only.
 */
export function createDeviceTimeline({
  device,
  site,
  seed,
  startAt,
  pace,
  baseCelsius,
}: {
  device: SimDevice
  site: Site
  seed: string
  startAt: number
  pace: Pace
  baseCelsius: number
}) {
  const random = createRandom(seed, device.id)
  // Seqs start at the run's start time so a rerun is not taken for redelivery of the last run's seqs.
  let seq = startAt
  const battery = {
    initial: Math.round(random.between(70, 100)),
    drainPerDay: device.kind === 'aed' ? random.between(0.5, 1.5) : random.between(0.05, 0.3),
  }
  let nextReadingAt = startAt + random.int(pace.readingEveryMs)
  let nextHeartbeatAt = startAt + random.int(pace.heartbeatEveryMs)
  const door: Door = { open: false, badge: null, stuck: false }
  let lockedUntil = Number.NEGATIVE_INFINITY
  let opening = device.kind === 'door' ? planOpening(startAt) : null
  const aed = { present: true, cabinetOpen: false }
  let lastCelsius: number | null = null
  let heat: Heat | null = null
  let powered = true

  function planOpening(after: number) {
    return nextBadgedOpening({
      after: Math.max(after, lockedUntil),
      timezone: site.timezone,
      accessHours: site.accessHours,
      random,
    })
  }

  function stamp(payload: ReadingPayload, at: number): SimReading {
    seq += 1
    return { device: device.id, payload: { ...payload, ts: at, seq } }
  }

  const batteryNow = (at: number) => batteryAt({ ...battery, startedAt: startAt, at })
  const doorPayload = (): ReadingPayload =>
    door.badge === null
      ? { type: 'door', open: door.open }
      : { type: 'door', open: door.open, badge: door.badge }

  function stateReading(at: number): ReadingPayload {
    switch (device.kind) {
      case 'temperature': {
        const normal = normalCelsius({ base: baseCelsius, at, timezone: site.timezone, random })
        let celsius = normal
        if (heat) {
          const heated = heatedCelsius({ last: lastCelsius ?? normal, normal, heat })
          celsius = heated.celsius
          heat = heated.heat
        }
        lastCelsius = celsius
        return { type: 'temperature', celsius }
      }
      case 'door':
        return doorPayload()
      case 'aed':
        return { type: 'aed', present: aed.present, cabinetOpen: aed.cabinetOpen, battery: batteryNow(at) }
      case 'heartbeat-only':
        return { type: 'heartbeat', battery: batteryNow(at) }
    }
  }

  const openAt = () => (opening && !door.open ? opening.openAt : never)
  const closeAt = () => (opening && door.open && !door.stuck ? opening.closeAt : never)
  const nextAt = () =>
    powered ? Math.min(closeAt(), openAt(), nextReadingAt, nextHeartbeatAt) : Number.POSITIVE_INFINITY

  /** Every reading due up to `until`, in time order (same instant: door close, open, state, heartbeat). */
  function take(until: number): SimReading[] {
    const out: SimReading[] = []
    for (let at = nextAt(); at <= until; at = nextAt()) {
      if (closeAt() === at && opening) {
        door.open = false
        door.badge = null
        out.push(stamp(doorPayload(), at))
        opening = planOpening(at)
      } else if (openAt() === at && opening) {
        door.open = true
        door.badge = opening.badge
        out.push(stamp(doorPayload(), at))
      } else if (nextReadingAt === at) {
        out.push(stamp(stateReading(at), at))
        nextReadingAt = at + jitteredGap(random, pace.readingEveryMs)
      } else {
        out.push(stamp({ type: 'heartbeat', battery: batteryNow(at) }, at))
        nextHeartbeatAt = at + pace.heartbeatEveryMs
      }
    }
    return out
  }

  /** A scenario's change at `at` (call `take(at)` first): the readings it causes at once. */
  function apply(change: DeviceChange, at: number): SimReading[] {
    const speak = (payload: ReadingPayload) => (powered ? [stamp(payload, at)] : [])
    switch (change.type) {
      case 'door-hold':
        // Opened with a badge like any morning, then wedged open.
        door.badge = door.open && door.badge !== null ? door.badge : badgeOf(random)
        door.open = true
        door.stuck = true
        return speak(doorPayload())
      case 'door-force':
        door.open = true
        door.badge = null
        door.stuck = true
        return speak(doorPayload())
      case 'door-release':
        door.open = false
        door.badge = null
        door.stuck = false
        opening = planOpening(at)
        return speak(doorPayload())
      case 'heat':
        heat = { target: change.target, ending: false }
        return []
      case 'cool':
        if (heat) heat = { ...heat, ending: true }
        return []
      case 'aed-take':
        aed.present = false
        aed.cabinetOpen = true
        return speak(stateReading(at))
      case 'aed-return':
        aed.present = true
        aed.cabinetOpen = false
        return speak(stateReading(at))
      case 'power-off':
        powered = false
        return []
      case 'power-on': {
        if (powered) return []
        powered = true
        // A door that was mid-opening when the power went is found closed; its next opening is planned anew.
        if (!door.stuck) {
          door.open = false
          door.badge = null
          if (device.kind === 'door') opening = planOpening(at)
        }
        nextReadingAt = at + jitteredGap(random, pace.readingEveryMs)
        nextHeartbeatAt = at + pace.heartbeatEveryMs
        // A device that boots says so at once.
        return [stamp({ type: 'heartbeat', battery: batteryNow(at) }, at)]
      }
      case 'door-lock': {
        if (device.kind !== 'door') return []
        const wasOpen = door.open
        lockedUntil = change.until
        door.open = false
        door.badge = null
        door.stuck = false
        opening = planOpening(at)
        return wasOpen ? speak(doorPayload()) : []
      }
      case 'reboot': {
        if (!powered) return []
        const state = stateReading(at)
        if (device.kind === 'heartbeat-only') return [stamp(state, at)]
        return [stamp({ type: 'heartbeat', battery: batteryNow(at) }, at), stamp(state, at)]
      }
    }
  }

  return { device, nextAt, take, apply, isPowered: () => powered }
}

export type DeviceTimeline = ReturnType<typeof createDeviceTimeline>
