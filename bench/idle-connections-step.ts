import { readdirSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import type { MessageStandIns } from '../demo/index.ts'
import type { BenchChild, Children } from './child-processes.ts'
import { type LoopVigie, loopDevices, openFilesLimit, startLoopVigie } from './loop-world.ts'
import { sampleProcess } from './process-stats.ts'
import type { Progress } from './progress.ts'

export type IdleFigures = {
  requested: number
  connected: number
  failed: number
  /** Why fewer than requested were tried, when they were. */
  cap: string | undefined
  startMs: number
  connectMs: number
  holdSeconds: number
  vigie: { baselineRssBytes: number; rssBytes: number; peakRssBytes: number }
  redisPeakRssBytes: number
  /** vigie's RSS growth per connected device, and its peak scaled to the requested count when capped. */
  perDeviceBytes: number
  extrapolatedPeakBytes: number | undefined
}

// Sockets per idle-fleet process at most: well under a 20,000 open-files limit.
const perFleetProcessMax = 9000
// Logins waiting at once, over every idle-fleet process: each waits its scrypt check well within vigie's
// MQTT connect timeout (10 s) even at 30 logins a second.
const loginsInFlight = 60

function openFiles(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return 0
  }
}

/**
 * A fresh vigie (every role) with `requested` devices in its site file, as many of them connected as its
 * open-files limit allows, from idle-fleet processes; then held, and vigie's and redis's VmHWM read.
 */
export async function runIdleConnections({
  children,
  standIns,
  secret,
  secretHash,
  requested,
  holdSeconds,
  progress,
  onStarted,
}: {
  children: Children
  standIns: MessageStandIns
  secret: string
  secretHash: string
  requested: number
  holdSeconds: number
  progress: Progress
  /** So that a stop from outside (Ctrl-C) can end this vigie too. */
  onStarted: (vigie: LoopVigie) => void
}): Promise<IdleFigures> {
  progress.update(`starting vigie with ${requested.toLocaleString('en-US')} devices in its site file`)
  const devices = loopDevices(requested, secret)
  const vigie = await startLoopVigie({
    children,
    devices,
    secretHash,
    standIns,
    startTimeoutMs: 60_000 + requested * 10,
  })
  onStarted(vigie)
  const fleets: BenchChild[] = []
  try {
    const limit = await openFilesLimit(vigie.pid)
    // What vigie holds before any device (Redis, listeners, its runtime), and a margin for the rest.
    const room = limit === undefined ? requested : limit - openFiles(vigie.pid) - 100
    const target = Math.max(0, Math.min(requested, room))
    const cap =
      target < requested
        ? `vigie's open-files limit is ${limit?.toLocaleString('en-US')} (\`ulimit -n\`, the hard limit here; ` +
          `raising it needs CAP_SYS_RESOURCE): ${target.toLocaleString('en-US')} devices connected, not ` +
          `${requested.toLocaleString('en-US')}`
        : undefined
    if (cap) progress.note(`rss: ${cap}`)
    const baseline = sampleProcess(vigie.pid)
    const width = String(requested).length
    const counts: { connected: number; failed: number; done: boolean }[] = []
    const started = performance.now()
    // The idle-fleet processes get the same limit as vigie (both raised to the hard one).
    const perFleetProcess = Math.max(1, Math.min(perFleetProcessMax, (limit ?? 20_000) - 200))
    const concurrency = Math.max(1, Math.floor(loginsInFlight / Math.ceil(target / perFleetProcess)))
    for (let first = 1; first <= target; first += perFleetProcess) {
      const count = Math.min(perFleetProcess, target - first + 1)
      const state = { connected: 0, failed: 0, done: false }
      counts.push(state)
      const fleet = children.start({
        args: [
          '--import',
          'tsx',
          'bench/idle-fleet.ts',
          ...[vigie.mqttPort, first, count, width, concurrency].map(String),
        ],
        env: { BENCH_SECRET: secret },
        raiseOpenFiles: true,
      })
      let pending = ''
      fleet.child.stdout?.on('data', (chunk: Buffer) => {
        pending += chunk.toString()
        const lines = pending.split('\n')
        pending = lines.pop() ?? ''
        for (const line of lines) {
          const [word, n] = line.split(' ')
          if (word === 'connected') state.connected = Number(n)
          if (word === 'failed') state.failed = Number(n)
          if (word === 'done') state.done = true
        }
      })
      fleets.push(fleet)
    }
    const deadline = performance.now() + 120_000 + target * 100
    const total = () => counts.reduce((sum, c) => sum + c.connected, 0)
    const failures = () => counts.reduce((sum, c) => sum + c.failed, 0)
    while (!counts.every((c) => c.done)) {
      if (performance.now() > deadline) throw new Error(`idle devices still connecting after the deadline`)
      if (fleets.some((f) => f.child.exitCode !== null)) throw new Error(`an idle-fleet process ended early`)
      const seconds = (performance.now() - started) / 1000
      progress.update(
        `${total().toLocaleString('en-US')} of ${target.toLocaleString('en-US')} connected ` +
          `(${Math.round(total() / Math.max(seconds, 0.001))}/s, each login one scrypt check)` +
          (failures() ? `, ${failures()} failed` : ''),
        target ? (total() + failures()) / target : 1,
      )
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    const connectMs = performance.now() - started
    for (let left = holdSeconds; left > 0; left--) {
      const elapsed = (performance.now() - started) / 1000
      progress.update(
        `${total().toLocaleString('en-US')} connected, holding ${left} s (heartbeats every 60 s)`,
        elapsed / (elapsed + left + 3),
      )
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    const after = sampleProcess(vigie.pid)
    const redis = sampleProcess(vigie.redisPid)
    const connected = total()
    const baselineRssBytes = baseline?.rssBytes ?? Number.NaN
    const peakRssBytes = after?.peakRssBytes ?? Number.NaN
    const perDeviceBytes =
      connected > 0 ? ((after?.rssBytes ?? Number.NaN) - baselineRssBytes) / connected : Number.NaN
    return {
      requested,
      connected,
      failed: failures(),
      cap,
      startMs: vigie.startMs,
      connectMs,
      holdSeconds,
      vigie: { baselineRssBytes, rssBytes: after?.rssBytes ?? Number.NaN, peakRssBytes },
      redisPeakRssBytes: redis?.peakRssBytes ?? Number.NaN,
      perDeviceBytes,
      extrapolatedPeakBytes:
        connected < requested ? peakRssBytes + (requested - connected) * perDeviceBytes : undefined,
    }
  } finally {
    progress.update('closing the idle devices and vigie')
    await Promise.all(fleets.map((fleet) => fleet.stop(5000)))
    await vigie.stop()
  }
}
