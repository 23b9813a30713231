import { performance } from 'node:perf_hooks'
import type { MessageStandIns, StandInCounts } from '../demo/index.ts'
import { notificationKeys } from '../notifier/index.ts'
import {
  collectProbeLatencies,
  eventsCursor,
  type ProbeLatencies,
  type ProbeSchedule,
} from './latency-step.ts'
import type { Fleet, LoadResult } from './load-generator.ts'
import type { LoopVigie } from './loop-world.ts'
import { cpuShare, type ProcessSample, sampleProcess } from './process-stats.ts'
import type { Progress } from './progress.ts'
import { entriesRead } from './rules-world.ts'

/** One rate held through the whole loop: the load's figures and what the loop made of it. */
export type LoopWindow = {
  rate: number
  load: LoadResult
  /** Shares of one core in the window: vigie (every role) and its redis-server. */
  cpu: { vigie: number; redis: number }
  /** vigie's VmHWM as the window closed. */
  peakRssBytes: number
  /** Readings the rule workers evaluated per second in the window, and their backlog as it closed. */
  rules: { evaluatedPerSecond: number; lagAtEnd: number }
  latency: ProbeLatencies
  /** Made during the step (warm-up, window and the settling after it). */
  produced: {
    tickets: number
    offers: number
    notifications: number
    outcomes: Record<string, number>
    standIns: StandInCounts
  }
}

const settleTimeoutMs = 30_000

const difference = <T extends Record<string, number>>(after: T, before: T): T =>
  Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)])) as T

/** Holds `rate` for a warm-up and a window, probes included, then reads what the loop produced. */
export async function runLoopWindow({
  vigie,
  fleet,
  probes,
  standIns,
  rate,
  warmupSeconds,
  seconds,
  progress,
}: {
  vigie: LoopVigie
  fleet: Fleet
  probes: ProbeSchedule
  standIns: MessageStandIns
  rate: number
  warmupSeconds: number
  seconds: number
  progress: Progress
}): Promise<LoopWindow> {
  const { redis, prefix } = vigie
  const outcomesKey = notificationKeys(prefix).outcomes
  const outcomes = async () =>
    Object.fromEntries(Object.entries(await redis.hgetall(outcomesKey)).map(([k, v]) => [k, Number(v)]))
  const after = await eventsCursor(redis, prefix)
  const [outcomesBefore, standInsBefore] = [await outcomes(), standIns.counts()]
  let before: (ProcessSample | null)[] = []
  let samples: (ProcessSample | null)[] = []
  let windowStart = 0
  let windowSeconds = seconds
  let readBefore: Promise<{ read: number; lag: number }> | undefined
  let readAfter: Promise<{ read: number; lag: number }> | undefined
  const pids = [vigie.pid, vigie.redisPid]
  const started = performance.now()
  const total = warmupSeconds + seconds
  const ticker = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000
    const phase = elapsed < warmupSeconds ? 'warm-up' : 'measuring'
    progress.update(
      `${phase}, ${fleet.ackedTotal().toLocaleString('en-US')} acked so far`,
      elapsed / (total + 5),
    )
  }, 1000)
  let load: LoadResult
  try {
    load = await fleet.run({
      rate,
      warmupSeconds,
      seconds,
      maxInFlightPerDevice: 10,
      drainTimeoutMs: 15_000,
      payloadFor: probes.payloadFor,
      onWindowStart: () => {
        before = pids.map(sampleProcess)
        windowStart = performance.now()
        probes.openWindow()
        readBefore = entriesRead(redis, prefix)
      },
      onWindowEnd: () => {
        samples = pids.map(sampleProcess)
        windowSeconds = (performance.now() - windowStart) / 1000
        probes.closeWindow()
        readAfter = entriesRead(redis, prefix)
      },
    })
  } finally {
    clearInterval(ticker)
  }
  progress.update('waiting for every probe to be offered and notified')
  const collected = await collectProbeLatencies({
    redis,
    prefix,
    sent: probes.sentInWindow(),
    after,
    timeoutMs: settleTimeoutMs,
  })
  const [start, end] = [await readBefore, await readAfter]
  const { tally, ...latency } = collected
  return {
    rate,
    load,
    cpu: {
      vigie: cpuShare(before[0] ?? null, samples[0] ?? null, windowSeconds),
      redis: cpuShare(before[1] ?? null, samples[1] ?? null, windowSeconds),
    },
    peakRssBytes: samples[0]?.peakRssBytes ?? Number.NaN,
    rules: {
      evaluatedPerSecond: ((end?.read ?? 0) - (start?.read ?? 0)) / windowSeconds,
      lagAtEnd: end?.lag ?? 0,
    },
    latency,
    produced: {
      tickets: tally.tickets,
      offers: tally.offers,
      notifications: tally.notifications,
      outcomes: difference(await outcomes(), outcomesBefore),
      standIns: difference(standIns.counts(), standInsBefore),
    },
  }
}
