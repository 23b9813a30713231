import { performance } from 'node:perf_hooks'
import { connectFleet, type DeviceCredential, type LoadResult } from './load-generator.ts'
import { cpuShare, type ProcessSample, sampleProcess } from './process-stats.ts'
import type { Progress } from './progress.ts'
import type { Target } from './targets.ts'

export type RelayWindow = { rate: number; load: LoadResult; cpu: number; peakRssBytes: number }
export type RelayRun = { name: string; startMs: number; connectMs: number; windows: RelayWindow[] }

/** A relay (plain aedes, mosquitto) under the load vigie had: the same devices, rates and windows. */
export async function runRelay({
  start,
  devices,
  rates,
  warmupSeconds,
  seconds,
  progress,
  onStarted,
}: {
  start: () => Promise<Target>
  devices: DeviceCredential[]
  rates: number[]
  warmupSeconds: number
  seconds: number
  progress: Progress
  /** So that a stop from outside (Ctrl-C) can end this relay too. */
  onStarted: (target: Target) => void
}): Promise<RelayRun> {
  const target = await start()
  onStarted(target)
  try {
    progress.update(`connecting ${devices.length.toLocaleString('en-US')} devices`)
    const fleet = await connectFleet({
      port: target.port,
      devices,
      concurrency: 50,
      connectTimeoutMs: 60_000,
    })
    const windows: RelayWindow[] = []
    try {
      for (const rate of rates) {
        let before: ProcessSample | null = null
        let after: ProcessSample | null = null
        let opened = 0
        let windowSeconds = seconds
        const started = performance.now()
        const ticker = setInterval(() => {
          const elapsed = (performance.now() - started) / 1000
          progress.update(
            `${rate.toLocaleString('en-US')}/s, ${elapsed < warmupSeconds ? 'warm-up' : 'measuring'}`,
            elapsed / (warmupSeconds + seconds),
          )
        }, 1000)
        const load = await fleet
          .run({
            rate,
            warmupSeconds,
            seconds,
            maxInFlightPerDevice: 10,
            drainTimeoutMs: 15_000,
            onWindowStart: () => {
              before = sampleProcess(target.pid)
              opened = performance.now()
            },
            onWindowEnd: () => {
              after = sampleProcess(target.pid)
              windowSeconds = (performance.now() - opened) / 1000
            },
          })
          .finally(() => clearInterval(ticker))
        windows.push({
          rate,
          load,
          cpu: cpuShare(before, after, windowSeconds),
          peakRssBytes: sampleProcess(target.pid)?.peakRssBytes ?? Number.NaN,
        })
      }
    } finally {
      await fleet.close()
    }
    return { name: target.name, startMs: target.startMs, connectMs: fleet.connectMs, windows }
  } finally {
    await target.stop()
  }
}
