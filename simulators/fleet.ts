import { performance } from 'node:perf_hooks'
import type { Site } from '../config/index.ts'
import { zoneBaseCelsius } from './behaviours.ts'
import { type Clock, systemClock } from './clock.ts'
import { answerCommand, type CommandAnswer } from './command-answers.ts'
import {
  createDeviceTimeline,
  type DeviceChange,
  type DeviceTimeline,
  type Pace,
  type SimReading,
} from './device-timeline.ts'
import { createPublishStats } from './publish-stats.ts'
import { createRandom } from './random.ts'
import {
  type ScenarioCue,
  type ScenarioName,
  type ScenarioOptions,
  scenarioDevices,
  scenarioSpecs,
} from './scenarios.ts'
import type { SimDevice } from './sim-device.ts'
import { SimulatorError } from './simulator-error.ts'
import type { DeviceLink, Transport } from './transport.ts'

export type FleetOptions = {
  sites: readonly Site[]
  devices: readonly SimDevice[]
  seed: string
  pace: Pace
  transport: Transport
  clock?: Clock
  /** Connections opened at once, so thousands of devices come up without a storm. */
  connectConcurrency?: number
  /** QoS 1 publishes a device has unacknowledged at once (MQTT 5 calls it receive maximum). */
  maxInFlight?: number
  /** Readings a device keeps while it is not connected (a sensor's small store-and-forward memory); older ones are dropped past this. */
  bufferLimit?: number
  /** Every reading the devices produce, in the order they produce it. */
  onReading?: (reading: SimReading) => void
  /** A scenario started or ended (on cue, by a call, or by a technician's repair). */
  onScenario?: (change: { type: 'started' | 'ended'; run: ScenarioRun }) => void
  /** Issue 19: devices listen on their commands topic and answer (simulators/command-answers.ts); true by default. */
  answerCommands?: boolean
  /** A device answered a command. */
  onCommand?: (answered: { device: string; name: string; answer: CommandAnswer }) => void
}

/** A scenario running on some devices; `end` puts them right (door closed, AED back, power on). */
export type ScenarioRun = {
  name: ScenarioName
  devices: string[]
  startedAt: number
  isActive: () => boolean
  end: () => void
}

type Member = {
  device: SimDevice
  timeline: DeviceTimeline
  link: DeviceLink | null
  connecting: boolean
  buffer: SimReading[]
  inFlight: number
  cancelTimer: () => void
}

/** The fleet: one timeline and one connection per device, a publish loop on the clock, and scenarios. */
export function createFleet({
  sites,
  devices,
  seed,
  pace,
  transport,
  clock = systemClock(),
  connectConcurrency = 200,
  maxInFlight = 10,
  bufferLimit = 20,
  onReading = () => {},
  onScenario = () => {},
  answerCommands = true,
  onCommand = () => {},
}: FleetOptions) {
  const sitesById = new Map(sites.map((site) => [site.id, site]))
  for (const device of devices) {
    if (!sitesById.has(device.site))
      throw new SimulatorError({
        code: 'SIM_BAD_OPTIONS',
        message: `Device ${device.id}: no site ${device.site}`,
      })
    if (!device.secret)
      throw new SimulatorError({ code: 'SIM_NO_SECRET', message: `Device ${device.id} has no secret` })
  }
  const stats = createPublishStats(devices.length)
  const members = new Map<string, Member>()
  const waiting: Member[] = []
  const runs = new Set<ScenarioRun>()
  const cancelCues: (() => void)[] = []
  let connecting = 0
  let startedAt = 0
  let closed = false

  const baseOfZone = new Map<string, number>()
  const baseCelsius = (device: SimDevice) => {
    const zone = device.zone ?? `site:${device.site}`
    let base = baseOfZone.get(zone)
    if (base === undefined) {
      base = zoneBaseCelsius(createRandom(seed, `zone:${zone}`))
      baseOfZone.set(zone, base)
    }
    return base
  }

  /** Sends what waits, up to the in-flight window: a broker that slows down slows the device down. */
  function drain(member: Member) {
    const link = member.link
    while (link && member.inFlight < maxInFlight && member.buffer.length > 0) {
      const reading = member.buffer.shift() as SimReading
      stats.counts.buffered -= 1
      stats.counts.sent += 1
      member.inFlight += 1
      const began = performance.now()
      link.publish(`devices/${reading.device}/telemetry`, JSON.stringify(reading.payload), 1).then(
        () => {
          stats.counts.acked += 1
          stats.ackedAfter(performance.now() - began)
          settled(member, link)
        },
        () => {
          stats.counts.failed += 1
          settled(member, link)
        },
      )
    }
  }

  function settled(member: Member, link: DeviceLink) {
    // An answer from a connection since cut belongs to no window any more.
    if (member.link !== link) return
    member.inFlight -= 1
    drain(member)
  }

  function send(member: Member, readings: SimReading[]) {
    for (const reading of readings) {
      onReading(reading)
      member.buffer.push(reading)
      stats.counts.buffered += 1
      if (member.buffer.length > bufferLimit) {
        member.buffer.shift()
        stats.counts.buffered -= 1
        stats.counts.dropped += 1
      }
    }
    drain(member)
  }

  function schedule(member: Member) {
    member.cancelTimer()
    const at = member.timeline.nextAt()
    if (closed || !Number.isFinite(at)) return
    member.cancelTimer = clock.schedule(at, () => {
      send(member, member.timeline.take(clock.now()))
      schedule(member)
    })
  }

  function pumpConnections() {
    while (!closed && connecting < connectConcurrency && waiting.length > 0) {
      const member = waiting.shift()
      if (member) void connect(member)
    }
  }

  /** Does what the command asks and answers on the status topic, over the link it came on. */
  function command(member: Member, name: string, payload: string) {
    const at = clock.now()
    const outcome = answerCommand({ kind: member.device.kind, topicName: name, payload, now: at })
    const link = member.link
    if (!outcome || !link) return
    if (outcome.change) change(member, outcome.change, at)
    const status = `devices/${member.device.id}/status`
    if (outcome.change?.type === 'reboot') void link.publish(status, 'online', 1).catch(() => {})
    void link.publish(status, JSON.stringify(outcome.answer), 1).catch(() => {})
    onCommand({ device: member.device.id, name, answer: outcome.answer })
  }

  async function connect(member: Member) {
    connecting += 1
    try {
      const link = await transport.connect(
        member.device,
        answerCommands ? { onCommand: (name, payload) => command(member, name, payload) } : {},
      )
      // Closed, or powered off while connecting: the connection is not wanted any more.
      if (closed || !member.timeline.isPowered()) {
        await link.close(closed ? 'clean' : 'cut')
        return
      }
      member.link = link
      member.inFlight = 0
      stats.counts.connected += 1
      drain(member)
    } catch (error) {
      stats.counts.connectFailures += 1
      stats.counts.lastConnectError = error instanceof Error ? error.message : String(error)
    } finally {
      member.connecting = false
      connecting -= 1
      pumpConnections()
    }
  }

  function queueConnection(member: Member) {
    if (member.link || member.connecting || closed) return
    member.connecting = true
    waiting.push(member)
    pumpConnections()
  }

  function change(member: Member, what: DeviceChange, at: number) {
    send(member, member.timeline.take(at))
    const wasPowered = member.timeline.isPowered()
    const readings = member.timeline.apply(what, at)
    if (wasPowered && !member.timeline.isPowered()) {
      const link = member.link
      member.link = null
      stats.counts.buffered -= member.buffer.length
      member.buffer = []
      if (link) {
        stats.counts.connected -= 1
        void link.close('cut').catch(() => {})
      }
    }
    send(member, readings)
    if (!wasPowered && member.timeline.isPowered()) queueConnection(member)
    schedule(member)
  }

  function startScenario(
    name: ScenarioName,
    { target, options = {} }: { target?: string; options?: ScenarioOptions } = {},
  ): ScenarioRun {
    const spec = scenarioSpecs[name]
    const chosen = scenarioDevices(name, target, devices).map((d) => members.get(d.id))
    const at = clock.now()
    let active = true
    for (const member of chosen) if (member) change(member, spec.start(options), at)
    const run: ScenarioRun = {
      name,
      devices: chosen.flatMap((m) => (m ? [m.device.id] : [])),
      startedAt: at,
      isActive: () => active,
      end: () => {
        if (!active) return
        active = false
        runs.delete(run)
        for (const member of chosen) if (member) change(member, spec.end, clock.now())
        onScenario({ type: 'ended', run })
      },
    }
    runs.add(run)
    onScenario({ type: 'started', run })
    return run
  }

  return {
    devices,
    /** Starts every device's timeline now and connects them, `connectConcurrency` at a time. */
    start: () => {
      startedAt = clock.now()
      for (const device of devices) {
        const timeline = createDeviceTimeline({
          device,
          site: sitesById.get(device.site) as Site,
          seed,
          startAt: startedAt,
          pace,
          baseCelsius: baseCelsius(device),
        })
        const member: Member = {
          device,
          timeline,
          link: null,
          connecting: false,
          buffer: [],
          inFlight: 0,
          cancelTimer: () => {},
        }
        members.set(device.id, member)
        schedule(member)
        queueConnection(member)
      }
    },
    startScenario,
    /** Starts (and ends) scenarios at offsets from the start; targets are checked now. */
    cue: (cues: readonly ScenarioCue[]) => {
      for (const cue of cues) {
        scenarioDevices(cue.name, cue.target, devices)
        cancelCues.push(
          clock.schedule(startedAt + cue.atMs, () => {
            const run = startScenario(cue.name, cue.target === undefined ? {} : { target: cue.target })
            if (cue.endMs !== undefined) cancelCues.push(clock.schedule(startedAt + cue.endMs, run.end))
          }),
        )
      }
    },
    /** Ends the running scenarios on this device or zone: what a technician's repair does. */
    endScenariosOn: ({ device, zone }: { device?: string | null; zone?: string | null }): ScenarioRun[] => {
      const ended = [...runs].filter((run) =>
        run.devices.some((id) => id === device || (zone && members.get(id)?.device.zone === zone)),
      )
      for (const run of ended) run.end()
      return ended
    },
    activeScenarios: () => [...runs],
    stats: () => stats.snapshot(),
    /** Whether the device is connected now. */
    isConnected: (id: string) => Boolean(members.get(id)?.link),
    close: async () => {
      closed = true
      for (const cancel of cancelCues) cancel()
      const links: DeviceLink[] = []
      for (const member of members.values()) {
        member.cancelTimer()
        if (member.link) links.push(member.link)
        member.link = null
      }
      stats.counts.connected = 0
      // Closing is bounded like connecting: thousands of DISCONNECTs at once are a storm too.
      for (let i = 0; i < links.length; i += connectConcurrency)
        await Promise.all(links.slice(i, i + connectConcurrency).map((l) => l.close('clean').catch(() => {})))
    },
  }
}

export type Fleet = ReturnType<typeof createFleet>
