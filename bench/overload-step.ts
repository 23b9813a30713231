import { performance } from 'node:perf_hooks'
import type { MessageStandIns } from '../demo/index.ts'
import type { Children } from './child-processes.ts'
import { connectLaggingSubscriber } from './lagging-subscriber.ts'
import { connectFleet, type DeviceCredential, type LoadResult } from './load-generator.ts'
import { startLoopVigie } from './loop-world.ts'
import { sampleProcess } from './process-stats.ts'
import type { Progress } from './progress.ts'

/** Issue 15's overload: devices far faster than vigie stores, and an integration that cannot keep up. */
export type OverloadRun = {
  rate: number
  seconds: number
  devices: number
  /** What the lagging subscriber could read. */
  subscriberBytesPerSecond: number
  load: LoadResult
  /** vigie's main process was still running at the end. */
  survived: boolean
  exit: string | null
  /** vigie's processes (main and rule workers): RSS before the load, and the highest sampled during it. */
  rssBeforeBytes: number
  peakRssBytes: number
  /** RSS in each tenth of the load, to tell a plateau from a climb. */
  rssByTenth: number[]
  /** The most messages waiting in the broker's bus at one sample (every 500 ms, from /metrics). */
  peakBacklog: number
  /** Readings acknowledged to the devices, and how many readings vigie's log counts as stored. */
  acknowledged: number
  stored: number
  /** Messages the subscriber read, and when it was dropped (seconds into the load), if it was. */
  subscriberReceived: number
  subscriberDroppedAfterSeconds: number | null
  /** vigie's log lines about the dropped subscriber. */
  dropLines: string[]
}

/** vigie_mqtt_backlog_messages from /metrics (public in the bench's vigie); 0 when it does not answer. */
async function backlogOf(httpUrl: string): Promise<number> {
  const text = await fetch(`${httpUrl}/metrics`)
    .then((res) => res.text())
    .catch(() => '')
  return Number(/^vigie_mqtt_backlog_messages (\d+)/m.exec(text)?.[1] ?? 0)
}

const subscriber = { username: 'lagging-integration', password: 'lagging-integration-password' }

export async function runOverload({
  children,
  standIns,
  devices,
  secretHash,
  rate,
  seconds,
  subscriberBytesPerSecond,
  progress,
  onStarted,
}: {
  children: Children
  standIns: MessageStandIns
  devices: DeviceCredential[]
  secretHash: string
  rate: number
  seconds: number
  subscriberBytesPerSecond: number
  progress: Progress
  onStarted?: (vigie: { stop: () => Promise<void>; dir: string }) => void
}): Promise<OverloadRun> {
  progress.update('starting vigie with a lagging integration account')
  const vigie = await startLoopVigie({
    children,
    devices,
    secretHash,
    standIns,
    startTimeoutMs: 120_000,
    siteExtra: `mqttAccounts:\n  - { username: ${subscriber.username}, password: "${subscriber.password}", subscribe: ["devices/#"] }\n`,
    // /metrics is read twice a second, past its default rate limit.
    env: { LOG_LEVEL: 'info', RATE_LIMIT_HEAVY: '100000' },
  })
  onStarted?.(vigie)
  let exit: string | null = null
  void vigie.exited.then((code) => {
    exit = String(code)
  })
  try {
    const fleet = await connectFleet({
      port: vigie.mqttPort,
      devices,
      concurrency: 50,
      connectTimeoutMs: 120_000,
      onConnected: (count) =>
        progress.update(`${count} of ${devices.length} connected`, count / devices.length),
    })
    const lagging = await connectLaggingSubscriber({
      port: vigie.mqttPort,
      ...subscriber,
      filter: 'devices/#',
      bytesPerSecond: subscriberBytesPerSecond,
    })
    const rssBeforeBytes = sampleProcess(vigie.pid)?.rssBytes ?? 0
    let peakRssBytes = rssBeforeBytes
    let peakBacklog = 0
    const rssByTenth = new Array<number>(10).fill(0)
    const started = performance.now()
    const sampler = setInterval(() => {
      const sample = sampleProcess(vigie.pid)
      const elapsed = (performance.now() - started) / 1000
      if (sample) {
        peakRssBytes = Math.max(peakRssBytes, sample.rssBytes)
        const tenth = Math.min(9, Math.floor((elapsed / seconds) * 10))
        rssByTenth[tenth] = Math.max(rssByTenth[tenth] ?? 0, sample.rssBytes)
      }
      void backlogOf(vigie.httpUrl).then((backlog) => {
        peakBacklog = Math.max(peakBacklog, backlog)
      })
      progress.update(
        `${Math.round(elapsed)} s of ${seconds}: ${fleet.ackedTotal().toLocaleString('en-US')} acked, ` +
          `subscriber ${lagging.droppedAt() === null ? 'reading' : 'dropped'}, RSS ${Math.round((sample?.rssBytes ?? 0) / 2 ** 20)} MB`,
        Math.min(1, elapsed / seconds),
      )
    }, 500)
    let load: LoadResult
    try {
      load = await fleet.run({
        rate,
        warmupSeconds: 0,
        seconds,
        // Devices pipeline their readings: the broker's backpressure, not the generator, sets the pace.
        maxInFlightPerDevice: 20,
        drainTimeoutMs: 60_000,
      })
    } finally {
      clearInterval(sampler)
    }
    const droppedAt = lagging.droppedAt()
    const received = lagging.received()
    lagging.close()
    const acknowledged = fleet.ackedTotal()
    await fleet.close()
    const stored = Number((await vigie.redis.hget(`${vigie.prefix}stats`, 'readings')) ?? 0)
    return {
      rate,
      seconds,
      devices: devices.length,
      subscriberBytesPerSecond,
      load,
      survived: exit === null,
      exit,
      rssBeforeBytes,
      peakRssBytes,
      rssByTenth,
      peakBacklog,
      acknowledged,
      stored,
      subscriberReceived: received,
      subscriberDroppedAfterSeconds: droppedAt === null ? null : (droppedAt - started) / 1000,
      dropLines: vigie
        .output()
        .split('\n')
        .filter((line) => /too far behind|Maximum call stack|RangeError/.test(line))
        .slice(0, 5),
    }
  } finally {
    await vigie.stop()
  }
}
