import type { HistoryFigures } from './history-step.ts'
import type { IdleFigures } from './idle-connections-step.ts'
import type { Spread } from './latency-step.ts'
import { overloadGoal, overloadLines } from './overload-report.ts'
import type { OverloadRun } from './overload-step.ts'
import type { RelayRun } from './relay-step.ts'
import { generatorBound, sustained } from './report.ts'
import { type Machine, machineLines, replaceSection } from './results-file.ts'
import { lowRate } from './suite-flags.ts'
import type { LoopWindow } from './whole-loop-step.ts'

export type SuiteFigures = {
  devices: number
  seconds: number
  warmupSeconds: number
  /** One reading in this many is a probe that crosses the rule's threshold. */
  probeShare: number
  vigie: { startMs: number; connectMs: number; windows: LoopWindow[] } | undefined
  idle: IdleFigures | undefined
  overload: OverloadRun | undefined
  relays: RelayRun[]
  /** Issue 16's year, when the history step ran. */
  history?: HistoryFigures | undefined
  /** Steps skipped or failed, and why. */
  notes: string[]
}

export type SuiteContext = Machine & {
  command: string
  /** The 1-minute load average as the run started: others' work on the same cores. */
  loadAverage: number
  /** From the start of the run to its report. */
  durationMs: number
}

export type Verdict = 'met' | 'not met' | 'not measured'
export type GoalRow = { goal: string; figure: string; verdict: Verdict }

const goalRate = 10_000
const goalDevices = 5000
const goalConnected = 20_000
const goalRssBytes = 1.5 * 1024 ** 3

const thousands = (value: number) =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '–'
const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '–')
const percent = (share: number) => `${fixed(share * 100, 0)} %`
const gb = (bytes: number) => `${fixed(bytes / 1024 ** 3, 2)} GB`
const mb = (bytes: number) => `${fixed(bytes / 1024 ** 2, 0)} MB`
const ms = (s: Spread) => (s.count ? `${thousands(s.p50)} / ${thousands(s.p99)}` : '–')
/** Held through the whole loop: the readings acknowledged (as the ingest bench says) and the rules within a second. */
export const loopHeld = (w: LoopWindow) => sustained(w.load) && w.rules.lagAtEnd < w.rate

const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}×` : '–')

/** Issue 7's goals against the figures; a goal the run was too small to test is "not measured". */
export function goals(figures: SuiteFigures, nproc: number): GoalRow[] {
  const windows = figures.vigie?.windows ?? []
  const low = windows.find((w) => w.rate === lowRate)
  const top = windows.filter((w) => w.rate >= goalRate).sort((a, b) => a.rate - b.rate)[0]
  const rows: GoalRow[] = []
  const loopFigure = (w: LoopWindow) =>
    `${thousands(w.load.ackRate)} acked/s of ${thousands(w.rate)}/s from ${thousands(figures.devices)} devices` +
    `${loopHeld(w) ? ', held' : ', not held'}; rules backlog ${thousands(w.rules.lagAtEnd)} at the end`
  rows.push(
    top && figures.devices >= goalDevices
      ? {
          goal: `${thousands(goalRate)} readings/s through the whole loop from ${thousands(goalDevices)} devices`,
          figure: loopFigure(top),
          verdict: loopHeld(top) ? 'met' : 'not met',
        }
      : {
          goal: `${thousands(goalRate)} readings/s through the whole loop from ${thousands(goalDevices)} devices`,
          figure: windows.length ? `smaller run: ${loopFigure(windows.at(-1) as LoopWindow)}` : 'not run',
          verdict: 'not measured',
        },
  )
  rows.push({
    goal: `p99 reading → ticket offered under 50 ms at ${thousands(lowRate)} readings/s`,
    figure: low
      ? `p99 ${fixed(low.latency.toOffer.p99, 0)} ms (p50 ${fixed(low.latency.toOffer.p50, 0)} ms, ${low.latency.toOffer.count} probes)`
      : 'not run',
    verdict:
      !low || low.latency.toOffer.count === 0
        ? 'not measured'
        : low.latency.toOffer.p99 < 50
          ? 'met'
          : 'not met',
  })
  const machine = low ? (low.cpu.vigie + low.cpu.redis) / nproc : Number.NaN
  rows.push({
    goal: `under 10 % CPU of the machine at ${thousands(lowRate)} readings/s`,
    figure: low
      ? // One decimal: whole percents would print a share just under the goal as the goal itself.
        `${fixed(machine * 100, 1)} % of ${nproc} cores: vigie ${fixed(low.cpu.vigie * 100, 1)} % of a core, ` +
        `its redis ${fixed(low.cpu.redis * 100, 1)} %`
      : 'not run',
    verdict: Number.isFinite(machine) ? (machine < 0.1 ? 'met' : 'not met') : 'not measured',
  })
  const idle = figures.idle
  const total = idle ? idle.vigie.peakRssBytes + idle.redisPeakRssBytes : Number.NaN
  const scaled =
    idle?.extrapolatedPeakBytes === undefined ? total : idle.extrapolatedPeakBytes + idle.redisPeakRssBytes
  rows.push({
    goal: `${thousands(goalConnected)} devices connected within 1.5 GB`,
    figure: idle
      ? `${gb(total)} peak (vigie ${mb(idle.vigie.peakRssBytes)}, redis ${mb(idle.redisPeakRssBytes)}) with ` +
        `${thousands(idle.connected)} connected` +
        (idle.extrapolatedPeakBytes === undefined
          ? ''
          : `; ${gb(scaled)} scaled to ${thousands(idle.requested)}`)
      : 'not run',
    verdict:
      !idle || idle.requested < goalConnected ? 'not measured' : scaled <= goalRssBytes ? 'met' : 'not met',
  })
  rows.push(overloadGoal(figures.overload))
  return rows
}

function loopTable(figures: SuiteFigures, nproc: number): string[][] {
  const header = [
    'offered/s',
    'acked/s',
    'held: acked / evaluated',
    'PUBACK p50 / p99 ms',
    'rules evaluated/s',
    'rules backlog at end',
    'probes',
    'reading → offered p50 / p99 ms',
    'reading → 1st notification p50 / p99 ms',
    'tickets / offers / notifications',
    'SMS / calls / emails sent',
    'vigie CPU (core / machine)',
    'redis CPU (core / machine)',
  ]
  const rows = (figures.vigie?.windows ?? []).map((w) => [
    thousands(w.rate),
    thousands(w.load.ackRate),
    `${sustained(w.load) ? 'yes' : 'no'} / ${w.rules.lagAtEnd < w.rate ? 'yes' : 'no'}${generatorBound(w.load) ? ' (load generator saturated)' : ''}`,
    `${fixed(w.load.latencyMs.p50, 1)} / ${fixed(w.load.latencyMs.p99, 1)}`,
    thousands(w.rules.evaluatedPerSecond),
    thousands(w.rules.lagAtEnd),
    String(w.latency.probes),
    ms(w.latency.toOffer),
    ms(w.latency.toNotification),
    [w.produced.tickets, w.produced.offers, w.produced.notifications].map(thousands).join(' / '),
    `${w.produced.standIns.sms} / ${w.produced.standIns.calls} / ${w.produced.standIns.emails}`,
    `${percent(w.cpu.vigie)} / ${percent(w.cpu.vigie / nproc)}`,
    `${percent(w.cpu.redis)} / ${percent(w.cpu.redis / nproc)}`,
  ])
  return [header, ...rows]
}

function relayTable(figures: SuiteFigures): string[][] {
  const header = [
    'broker',
    'offered/s',
    'acked/s',
    'PUBACK p99 ms',
    'CPU',
    'peak RSS',
    'acked / vigie',
    'p99 / vigie',
    'CPU / vigie',
  ]
  // vigie's own rows first: the ratios below are against them.
  const vigieRows = figures.relays.length
    ? (figures.vigie?.windows ?? []).map((w) => [
        'vigie (every role)',
        thousands(w.rate),
        thousands(w.load.ackRate),
        fixed(w.load.latencyMs.p99, 1),
        percent(w.cpu.vigie),
        mb(w.peakRssBytes),
        '1.00×',
        '1.00×',
        '1.00×',
      ])
    : []
  const rows = figures.relays.flatMap((relay) =>
    relay.windows.map((w) => {
      const mine = figures.vigie?.windows.find((v) => v.rate === w.rate)
      return [
        relay.name,
        thousands(w.rate),
        thousands(w.load.ackRate),
        fixed(w.load.latencyMs.p99, 1),
        percent(w.cpu),
        mb(w.peakRssBytes),
        mine ? ratio(w.load.ackRate, mine.load.ackRate) : '–',
        mine ? ratio(w.load.latencyMs.p99, mine.load.latencyMs.p99) : '–',
        mine ? ratio(w.cpu, mine.cpu.vigie) : '–',
      ]
    }),
  )
  return [header, ...vigieRows, ...rows]
}

function detailLines(figures: SuiteFigures): string[] {
  const lines: string[] = []
  if (figures.vigie) {
    lines.push(
      `vigie (every role; the rule workers in a child process, counted with it): started in ${fixed(figures.vigie.startMs / 1000, 1)} s; ` +
        `${thousands(figures.devices)} devices connected in ${fixed(figures.vigie.connectMs / 1000, 1)} s ` +
        `(${thousands(figures.devices / (figures.vigie.connectMs / 1000))}/s, one scrypt check per first login)`,
    )
    for (const w of figures.vigie.windows)
      lines.push(
        `at ${thousands(w.rate)}/s: ${thousands(w.load.offered)} readings due in the window, ${thousands(w.load.skipped)} held back, ` +
          `${thousands(w.load.unacked)} unacknowledged after the drain, ${w.load.errors} failed; ` +
          `notification outcomes: ${
            Object.entries(w.produced.outcomes)
              .filter(([, n]) => n > 0)
              .map(([status, n]) => `${thousands(n)} ${status}`)
              .join(', ') || 'none yet'
          } (customer notices in bursts are folded into digests: suppressed)`,
      )
  }
  const idle = figures.idle
  if (idle) {
    lines.push(
      `rss: ${thousands(idle.connected)} idle devices connected in ${fixed(idle.connectMs / 1000, 0)} s ` +
        `(${thousands(idle.connected / (idle.connectMs / 1000))}/s), ${idle.failed} failed, held ${idle.holdSeconds} s; ` +
        `vigie RSS ${mb(idle.vigie.baselineRssBytes)} before, ${mb(idle.vigie.rssBytes)} after ` +
        `(${fixed(idle.perDeviceBytes / 1024, 1)} KB a device, the logins' scrypt memory included), ` +
        `VmHWM ${mb(idle.vigie.peakRssBytes)}`,
    )
    if (idle.cap) lines.push(`rss: ${idle.cap}`)
  }
  lines.push(...overloadLines(figures.overload))
  if (figures.history) lines.push(historyLine(figures.history))
  for (const relay of figures.relays)
    lines.push(
      `${relay.name}: started in ${fixed(relay.startMs / 1000, 1)} s, ${thousands(figures.devices)} devices connected in ${fixed(relay.connectMs / 1000, 1)} s`,
    )
  return [...lines, ...figures.notes]
}

/** How long the year took to write, what it holds, and what Redis holds it in. */
export function historyLine({ size, seed, summary, timings, usedMemoryBytes }: HistoryFigures): string {
  const statuses = Object.entries(summary.byStatus)
    .map(([status, n]) => `${thousands(n)} ${status}`)
    .join(', ')
  const outcomes = Object.entries(summary.notifications.byStatus)
    .map(([status, n]) => `${thousands(n)} ${status}`)
    .join(', ')
  return (
    `history (issue 16, seed "${seed}"): ${thousands(size.devices)} devices, ${thousands(size.technicians)} technicians, ` +
    `${thousands(size.customers)} customers, ${thousands(summary.tickets)} tickets (${statuses}), ` +
    `${thousands(summary.notifications.total)} notifications (${outcomes}), ${thousands(summary.readings)} readings ` +
    `written in ${fixed(timings.totalMs / 1000, 0)} s (tickets ${fixed(timings.ticketsMs / 1000, 0)} s, ` +
    `readings ${fixed(timings.readingsMs / 1000, 0)} s); Redis used_memory ${gb(usedMemoryBytes)}`
  )
}

function method(figures: SuiteFigures): string {
  return (
    `Windows of ${figures.seconds} s after ${figures.warmupSeconds} s of warm-up. Devices publish QoS 1 ` +
    `temperature readings (18.0–25.9 °C) round-robin; 1 reading in ${thousands(figures.probeShare)} (a probe), each on a ` +
    `device not probed before, reads 70 °C and crosses the rule's 60 °C threshold: each opens an incident and a ` +
    `ticket, offered to one of 8 technicians (SMS, call, email) and told to 2 customers (SMS, email), sent ` +
    `to a Twilio-compatible stand-in and a real SMTP server. Latency: the probe's publish to its ` +
    `\`ticket.offered\` event's stream id, and to the score of its ticket's first notification record ` +
    `(written as the record is opened, before the BullMQ job is added); with fewer than 100 probes, p99 is the ` +
    `slowest. CPU from /proc/<pid>/stat.`
  )
}

const cells = (row: string[]) => `| ${row.join(' | ')} |`
const markdownTable = (table: string[][], { numbers = true } = {}) => {
  const [header = [], ...rows] = table
  return [
    cells(header),
    cells(header.map((_, i) => (i === 0 || !numbers ? '---' : '---:'))),
    ...rows.map(cells),
  ]
}

export function suiteMarkdown(figures: SuiteFigures, context: SuiteContext): string {
  return [
    '# Benchmark suite (issues 7 and 15)',
    '',
    `Run of ${context.date}, ${Math.round(context.durationMs / 60_000)} min: \`${context.command}\``,
    '',
    ...machineLines(
      context,
      `load average ${fixed(context.loadAverage, 2)} as the run started (others' work on the same cores makes figures noisy).`,
    ),
    ...markdownTable(
      [
        ['goal (issues 7 and 15)', 'figure', 'verdict'],
        ...goals(figures, context.nproc).map((g) => [g.goal, g.figure, g.verdict]),
      ],
      { numbers: false },
    ),
    '',
    ...(figures.vigie?.windows.length
      ? ['### Whole loop', '', ...markdownTable(loopTable(figures, context.nproc)), '']
      : []),
    ...(figures.relays.length
      ? ['### Relays of the same load', '', ...markdownTable(relayTable(figures)), '']
      : []),
    ...detailLines(figures).map((line) => `- ${line}`),
    '',
    method(figures),
  ].join('\n')
}

/** For the terminal: the same figures, aligned. */
export function suiteText(figures: SuiteFigures, context: SuiteContext): string {
  const aligned = (table: string[][]) => {
    const widths = (table[0] ?? []).map((_, column) =>
      Math.max(...table.map((row) => (row[column] ?? '').length)),
    )
    return table.map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
  }
  return [
    ...goals(figures, context.nproc).map((g) => `${g.verdict.padEnd(12)} ${g.goal}: ${g.figure}`),
    '',
    ...(figures.vigie?.windows.length ? [...aligned(loopTable(figures, context.nproc)), ''] : []),
    ...(figures.relays.length ? [...aligned(relayTable(figures)), ''] : []),
    ...detailLines(figures),
  ].join('\n')
}

export const suiteBegin = '<!-- suite:begin (written by bench/suite.ts) -->'
export const suiteEnd = '<!-- suite:end -->'

/** The suite's section replaced, or put at the top; what follows it (older runs, notes) stays. */
export function withSuiteSection(existing: string, section: string): string {
  return replaceSection({
    text: existing,
    begin: suiteBegin,
    end: suiteEnd,
    section,
    place: (block) => `${block}\n${existing}`,
  })
}
