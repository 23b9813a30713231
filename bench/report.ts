import type { LoadResult } from './load-generator.ts'
import { type Machine, machineLines } from './results-file.ts'

/** One rate held against one target. */
export type StepMeasurement = LoadResult & {
  /** Share of one core used by the broker process, and by its helpers (redis-server), in the window. */
  brokerCpu: number
  helperCpu: number
  /** VmHWM of the broker process at the end of the step, and of its helpers. */
  peakRssBytes: number
  helperPeakRssBytes: number
}

export type TargetRun = {
  target: string
  devices: number
  startMs: number
  connectMs: number
  steps: StepMeasurement[]
  disconnects: number
  /** For a target that stores readings: PUBACKs the devices received against readings in the log. */
  durability?: { acked: number; stored: number }
}

export type RunContext = Machine & {
  command: string
  warmupSeconds: number
  seconds: number
  maxInFlightPerDevice: number
}

/** Held: at least 98% of the offered rate acknowledged, no device held back, nothing left unacknowledged. */
export function sustained(step: LoadResult): boolean {
  return step.ackRate >= 0.98 * step.rate && step.skipped === 0 && step.unacked === 0 && step.errors === 0
}

/** The load generator, not the target, set the pace: its figures bound the target's from below. */
export function generatorBound(step: LoadResult): boolean {
  return step.generatorCpu >= 0.9 || step.generatorLagP99Ms >= 50
}

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '–')
const mb = (bytes: number) => fixed(bytes / 1024 / 1024, 0)
const percent = (share: number) => `${fixed(share * 100, 0)} %`
const thousands = (value: number) => Math.round(value).toLocaleString('en-US')

const headers = [
  'target',
  'devices',
  'offered/s',
  'acked/s',
  'held',
  'slowest 1 s',
  'PUBACK p50 ms',
  'p99 ms',
  'max ms',
  'broker CPU',
  'redis CPU',
  'broker peak RSS MB',
  'redis peak RSS MB',
  'load gen CPU',
]

function rows(runs: TargetRun[]): string[][] {
  return runs.flatMap((run) =>
    run.steps.map((step) => [
      run.target,
      thousands(run.devices),
      thousands(step.rate),
      thousands(step.ackRate),
      sustained(step) ? 'yes' : 'no',
      thousands(step.slowestSecond),
      fixed(step.latencyMs.p50, 1),
      fixed(step.latencyMs.p99, 1),
      fixed(step.latencyMs.max, 0),
      percent(step.brokerCpu),
      run.target.startsWith('vigie') ? percent(step.helperCpu) : '–',
      mb(step.peakRssBytes),
      run.target.startsWith('vigie') ? mb(step.helperPeakRssBytes) : '–',
      `${percent(step.generatorCpu)}${generatorBound(step) ? ' (saturated)' : ''}`,
    ]),
  )
}

function ratioLines(runs: TargetRun[]): string[] {
  const vigie = runs.find((run) => run.target === 'vigie')
  const aedes = runs.find((run) => run.target === 'plain aedes')
  if (!vigie || !aedes) return []
  const best = (run: TargetRun) =>
    run.steps.reduce((top, step) => (step.ackRate > top.ackRate ? step : top), run.steps[0] as LoadResult)
  const [vigieBest, aedesBest] = [best(vigie), best(aedes)]
  const held = (run: TargetRun) =>
    thousands(
      Math.max(0, ...run.steps.filter((step) => sustained(step) && !generatorBound(step)).map((s) => s.rate)),
    )
  const highest = [
    `highest offered rate held, of those tried: vigie ${held(vigie)}/s, plain aedes ${held(aedes)}/s`,
    `highest acknowledged rate: vigie ${thousands(vigieBest.ackRate)}/s, plain aedes ${thousands(aedesBest.ackRate)}/s ` +
      `(${fixed(vigieBest.ackRate / aedesBest.ackRate, 2)}×` +
      `${generatorBound(aedesBest) ? '; the load generator saturated before plain aedes did, so its ceiling is higher' : ''})`,
  ]
  return vigie.steps
    .flatMap((mine) => {
      const theirs = aedes.steps.find((step) => step.rate === mine.rate)
      if (!theirs) return []
      const ratio = (a: number, b: number) => fixed(a / b, 2)
      return [
        `at ${thousands(mine.rate)}/s offered: acked rate ${ratio(mine.ackRate, theirs.ackRate)}×, ` +
          `PUBACK p50 ${ratio(mine.latencyMs.p50, theirs.latencyMs.p50)}×, ` +
          `p99 ${ratio(mine.latencyMs.p99, theirs.latencyMs.p99)}× plain aedes` +
          (generatorBound(mine) || generatorBound(theirs)
            ? ' (load generator saturated: not comparable)'
            : ''),
      ]
    })
    .concat(vigie.steps.length > 1 || aedes.steps.length > 1 ? highest : [])
}

function detailLines(runs: TargetRun[]): string[] {
  return runs.flatMap((run) => {
    const lines = [
      `${run.target}: started in ${fixed(run.startMs / 1000, 1)} s, ${thousands(run.devices)} devices connected ` +
        `in ${fixed(run.connectMs / 1000, 1)} s (${thousands(run.devices / (run.connectMs / 1000))}/s), ` +
        `${run.disconnects} connection(s) lost during the load`,
    ]
    for (const step of run.steps) {
      lines.push(
        `${run.target} at ${thousands(step.rate)}/s: ${thousands(step.offered)} readings due in the window, ` +
          `${thousands(step.skipped)} held back (device at its in-flight limit), ` +
          `${thousands(step.unacked)} unacknowledged after the drain, ${step.errors} failed; ` +
          `load generator ${percent(step.generatorCpu)} of a core, event-loop delay p99 ` +
          `${fixed(step.generatorLagP99Ms, 1)} ms`,
      )
    }
    if (run.durability) {
      const { acked, stored } = run.durability
      lines.push(
        `${run.target} durability: ${thousands(acked)} PUBACKs received, ${thousands(stored)} readings in the log ` +
          `(${stored === acked ? 'equal' : stored > acked ? 'more stored than acknowledged' : 'FEWER STORED THAN ACKNOWLEDGED'})`,
      )
    }
    return lines
  })
}

export function textReport(runs: TargetRun[]): string {
  const table = [headers, ...rows(runs)]
  const widths = headers.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)))
  const line = (row: string[]) =>
    row.map((cell, column) =>
      column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
    )
  return [...table.map((row) => line(row).join('  ')), '', ...ratioLines(runs), ...detailLines(runs)].join(
    '\n',
  )
}

export function markdownReport(runs: TargetRun[], context: RunContext): string {
  const cells = (row: string[]) => `| ${row.join(' | ')} |`
  return [
    `Run of ${context.date}: \`${context.command}\``,
    '',
    ...machineLines(
      context,
      `warm-up ${context.warmupSeconds} s, measured window ${context.seconds} s, ` +
        `at most ${context.maxInFlightPerDevice} unacknowledged readings per device.`,
    ),
    cells(headers),
    cells(headers.map((_, i) => (i === 0 || i === 4 ? '---' : '---:'))),
    ...rows(runs).map(cells),
    '',
    ...[...ratioLines(runs), ...detailLines(runs)].map((text) => `- ${text}`),
  ].join('\n')
}
