import { createHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks'
import mqtt, { type MqttClient } from 'mqtt'

export type DeviceCredential = { id: string; secret: string }

/** One rate held for a warm-up, then measured for `seconds`. */
export type LoadStep = {
  rate: number
  warmupSeconds: number
  seconds: number
  /** A device with this many readings unacknowledged skips its turn: a saturated broker slows devices down. */
  maxInFlightPerDevice: number
  drainTimeoutMs: number
  /** Called as the measured window opens and closes, to sample the target process. */
  onWindowStart?: () => void
  onWindowEnd?: () => void
  /** A payload of the caller's for this reading (a probe), called as it goes out; undefined: the usual one. */
  payloadFor?: (deviceId: string, seq: number) => string | undefined
}

export type LoadResult = {
  rate: number
  /** Readings due in the window at the offered rate. */
  offered: number
  /** Due but not sent: the device already had maxInFlightPerDevice unacknowledged. */
  skipped: number
  /** PUBACKs received in the window. */
  acked: number
  ackRate: number
  /** Fewest PUBACKs received in one second of the window. */
  slowestSecond: number
  /** PUBACKs received in each second of the window. */
  perSecond: number[]
  /** Publish call to PUBACK, for readings published in the window. */
  latencyMs: { p50: number; p99: number; max: number }
  /** Still unacknowledged when the drain after the window timed out. */
  unacked: number
  errors: number
  /** Share of one core the load generator (this process) used, and its event-loop delay. */
  generatorCpu: number
  generatorLagP99Ms: number
}

export type Fleet = {
  connectMs: number
  run: (step: LoadStep) => Promise<LoadResult>
  /** Every PUBACK received since connect. */
  ackedTotal: () => number
  /** Connections closed since connect, by either side. */
  disconnects: () => number
  close: () => Promise<void>
}

type Device = { id: string; client: MqttClient; topic: string; seq: number; inFlight: number }

const tickMs = 5
const lagResolutionMs = 10

/** Connects one MQTT client per device, `concurrency` at a time; throws on the first refusal. */
export async function connectFleet({
  port,
  devices,
  concurrency,
  connectTimeoutMs,
  onConnected,
}: {
  port: number
  devices: DeviceCredential[]
  concurrency: number
  connectTimeoutMs: number
  /** Told the count after each connection, for a progress display. */
  onConnected?: (count: number) => void
}): Promise<Fleet> {
  const started = performance.now()
  const connected: Device[] = []
  let disconnects = 0
  let next = 0
  const connectOne = async (credential: DeviceCredential): Promise<Device> => {
    const client = await mqtt.connectAsync(
      `mqtt://127.0.0.1:${port}`,
      {
        clientId: credential.id,
        username: credential.id,
        password: credential.secret,
        reconnectPeriod: 0,
        connectTimeout: connectTimeoutMs,
        keepalive: 300,
      },
      false,
    )
    client.on('error', () => {}) // surfaces as a failed publish or a disconnect, both counted
    client.on('close', () => disconnects++)
    return { id: credential.id, client, topic: `devices/${credential.id}/telemetry`, seq: 0, inFlight: 0 }
  }
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, devices.length) }, async () => {
        while (next < devices.length) {
          const credential = devices[next++]
          if (credential) connected.push(await connectOne(credential))
          onConnected?.(connected.length)
        }
      }),
    )
  } catch (error) {
    await Promise.all(connected.map((device) => device.client.endAsync(true)))
    throw error
  }
  const connectMs = performance.now() - started
  let ackedTotal = 0
  let inFlightTotal = 0

  async function run(step: LoadStep): Promise<LoadResult> {
    const start = performance.now()
    const windowStart = start + step.warmupSeconds * 1000
    const windowEnd = windowStart + step.seconds * 1000
    const histogram = createHistogram()
    const lag = monitorEventLoopDelay({ resolution: lagResolutionMs })
    const perSecond = new Array<number>(Math.ceil(step.seconds)).fill(0)
    let issued = 0
    let cursor = 0
    let offered = 0
    let skipped = 0
    let acked = 0
    let errors = 0
    let cpuAtStart = process.cpuUsage()

    const publish = (device: Device, measured: boolean) => {
      device.seq++
      device.inFlight++
      inFlightTotal++
      const payload =
        step.payloadFor?.(device.id, device.seq) ??
        `{"type":"temperature","celsius":${18 + (device.seq % 80) / 10},"seq":${device.seq}}`
      const sentAt = performance.now()
      device.client.publish(device.topic, payload, { qos: 1 }, (error) => {
        device.inFlight--
        inFlightTotal--
        if (error) {
          errors++
          return
        }
        ackedTotal++
        const at = performance.now()
        if (at >= windowStart && at < windowEnd) {
          acked++
          const second = Math.floor((at - windowStart) / 1000)
          perSecond[second] = (perSecond[second] ?? 0) + 1
        }
        if (measured) histogram.record(Math.max(1, Math.round((at - sentAt) * 1000)))
      })
    }

    // Open loop: readings fall due at the offered rate, round-robin over the devices, whatever the answers.
    await new Promise<void>((resolve) => {
      let windowOpen = false
      const timer = setInterval(() => {
        const now = performance.now()
        if (!windowOpen && now >= windowStart) {
          windowOpen = true
          step.onWindowStart?.()
          cpuAtStart = process.cpuUsage()
          lag.enable()
        }
        if (now >= windowEnd) {
          clearInterval(timer)
          step.onWindowEnd?.()
          lag.disable()
          resolve()
          return
        }
        const due = Math.floor(((now - start) / 1000) * step.rate)
        for (; issued < due; issued++) {
          const device = connected[cursor]
          cursor = (cursor + 1) % connected.length
          if (!device) continue
          if (windowOpen) offered++
          if (device.inFlight >= step.maxInFlightPerDevice || !device.client.connected) {
            if (windowOpen) skipped++
            continue
          }
          publish(device, windowOpen)
        }
      }, tickMs)
    })
    const cpu = process.cpuUsage(cpuAtStart)

    const drainDeadline = performance.now() + step.drainTimeoutMs
    while (inFlightTotal > 0 && performance.now() < drainDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const ms = (value: number) => value / 1000
    return {
      rate: step.rate,
      offered,
      skipped,
      acked,
      ackRate: acked / step.seconds,
      slowestSecond: Math.min(...perSecond),
      perSecond,
      latencyMs:
        histogram.count > 0
          ? { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) }
          : { p50: Number.NaN, p99: Number.NaN, max: Number.NaN },
      unacked: inFlightTotal,
      errors,
      generatorCpu: (cpu.user + cpu.system) / 1e6 / step.seconds,
      // The histogram counts the sampling timer's own interval too.
      generatorLagP99Ms: Math.max(0, lag.percentile(99) / 1e6 - lagResolutionMs),
    }
  }

  return {
    connectMs,
    run,
    ackedTotal: () => ackedTotal,
    disconnects: () => disconnects,
    close: async () => {
      await Promise.all(connected.map((device) => device.client.endAsync(true)))
    },
  }
}
