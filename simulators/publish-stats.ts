/** Counts of a run and the latest PUBACK latencies, for the progress line and the tests. */
export type FleetStats = {
  devices: number
  connected: number
  sent: number
  acked: number
  failed: number
  /** Readings dropped because a device's offline buffer was full. */
  dropped: number
  /** Readings waiting for their device's connection. */
  buffered: number
  connectFailures: number
  lastConnectError: string | null
  /** PUBACK latency over the last samples, in milliseconds (null before the first ack). */
  pubackP50Ms: number | null
  pubackP99Ms: number | null
}

const sampleSize = 8192

/** Counters and a ring of the last PUBACK latencies (percentiles of recent traffic, not of the whole run). */
export function createPublishStats(devices: number) {
  const latencies = new Float64Array(sampleSize)
  let samples = 0
  const counts = {
    connected: 0,
    sent: 0,
    acked: 0,
    failed: 0,
    dropped: 0,
    buffered: 0,
    connectFailures: 0,
    lastConnectError: null as string | null,
  }
  const percentile = (sorted: Float64Array, p: number) =>
    sorted.length === 0 ? null : (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? null)
  return {
    counts,
    ackedAfter: (ms: number) => {
      latencies[samples % sampleSize] = ms
      samples += 1
    },
    snapshot: (): FleetStats => {
      const sorted = latencies.slice(0, Math.min(samples, sampleSize)).sort()
      return {
        devices,
        ...counts,
        pubackP50Ms: percentile(sorted, 0.5),
        pubackP99Ms: percentile(sorted, 0.99),
      }
    },
  }
}

/** `connected 20/20 · sent 1,204 · acked 1,204 · PUBACK p50 1.2 ms p99 8.4 ms` */
export function formatStats(stats: FleetStats, extra: string[] = []): string {
  const n = (value: number) => value.toLocaleString('en-US')
  const ms = (value: number | null) => (value === null ? '–' : `${value.toFixed(1)} ms`)
  return [
    `connected ${n(stats.connected)}/${n(stats.devices)}`,
    `sent ${n(stats.sent)}`,
    `acked ${n(stats.acked)}`,
    ...extra,
    `PUBACK p50 ${ms(stats.pubackP50Ms)} p99 ${ms(stats.pubackP99Ms)}`,
    ...(stats.buffered > 0 ? [`waiting ${n(stats.buffered)}`] : []),
    ...(stats.failed > 0 ? [`failed ${n(stats.failed)}`] : []),
    ...(stats.dropped > 0 ? [`dropped ${n(stats.dropped)}`] : []),
    ...(stats.connectFailures > 0
      ? [`connect failures ${n(stats.connectFailures)} (${stats.lastConnectError})`]
      : []),
  ].join(' · ')
}
