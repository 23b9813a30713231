import type { OverloadRun } from './overload-step.ts'

const thousands = (value: number) =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–'
const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`

/** Issue 15's overload goal: no crash, nothing acknowledged lost, the lagging integration dropped, a bounded RSS. */
export function overloadGoal(run: OverloadRun | undefined): {
  goal: string
  figure: string
  verdict: 'met' | 'not met' | 'not measured'
} {
  const goal = 'under overload, no crash, every acknowledged reading stored, a lagging subscriber dropped'
  if (!run) return { goal, figure: 'not run', verdict: 'not measured' }
  const kept = run.stored >= run.acknowledged
  const dropped = run.subscriberDroppedAfterSeconds !== null
  return {
    goal,
    figure:
      `${run.survived ? 'running' : `exited (${run.exit})`} after ${run.seconds} s at ${thousands(run.rate)}/s offered: ` +
      `${thousands(run.acknowledged)} acknowledged, ${thousands(run.stored)} stored; subscriber ` +
      `${dropped ? `dropped after ${run.subscriberDroppedAfterSeconds?.toFixed(1)} s` : 'never dropped'}; ` +
      `peak RSS ${mb(run.peakRssBytes)} (${mb(run.rssBeforeBytes)} before)`,
    verdict: run.survived && kept && dropped ? 'met' : 'not met',
  }
}

export function overloadLines(run: OverloadRun | undefined): string[] {
  if (!run) return []
  return [
    `overload: ${thousands(run.devices)} devices offered ${thousands(run.rate)} readings/s for ${run.seconds} s, ` +
      `up to 20 each unacknowledged; ${thousands(run.load.ackRate)} acknowledged/s (PUBACK p50 ` +
      `${thousands(run.load.latencyMs.p50)} ms, p99 ${thousands(run.load.latencyMs.p99)} ms), ` +
      `${thousands(run.load.skipped)} held back by their devices, ${thousands(run.load.unacked)} unacknowledged after the drain`,
    `overload: a QoS 1 integration on devices/# reading ${thousands(run.subscriberBytesPerSecond)} bytes/s got ` +
      `${thousands(run.subscriberReceived)} messages; the broker's bus held at most ${thousands(run.peakBacklog)} waiting; ` +
      `vigie RSS by tenth of the load (MB): ${run.rssByTenth.map((b) => Math.round(b / 2 ** 20)).join(', ')}`,
    ...run.dropLines.map((line) => `overload: vigie said ${line}`),
  ]
}
