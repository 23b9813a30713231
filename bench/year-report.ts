import type { HistoryWorld, YearSize } from '../history/index.ts'
import type { Spread } from './latency-step.ts'
import type { Settled } from './year-settle.ts'
import type { YearRun } from './year-step.ts'

const ms = (value: number) =>
  Number.isNaN(value) ? '–' : value < 10 ? value.toFixed(1) : Math.round(value).toString()
const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(0)} MB`
const spreadCells = (s: Spread) => `${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)}`

/** Issue 16's goals, each checked against the year's figures. */
export function yearVerdicts(full: YearRun, empty: YearRun): string[] {
  const routes = full.routes.filter((r) => !r.name.startsWith('GET /api/kpis') && !r.name.includes('dry-run'))
  const kpis = full.routes.filter((r) => r.name.startsWith('GET /api/kpis'))
  const slowest = [...routes].sort((a, b) => b.p99 - a.p99)[0]
  const stall = Math.max(...full.routes.map((r) => r.stallMs), full.probes.stallMs)
  const met = (ok: boolean) => (ok ? 'met' : 'missed')
  return [
    `every route p99 under 50 ms: ${met((slowest?.p99 ?? 0) < 50)} (slowest ${slowest?.name}: ${ms(slowest?.p99 ?? Number.NaN)} ms)`,
    `KPIs over a year under 100 ms: ${met(kpis.every((r) => r.p99 < 100))} (p99 ${kpis.map((r) => ms(r.p99)).join(', ')} ms)`,
    `no stall over 50 ms: ${met(stall <= 50)} (longest ${ms(stall)} ms)`,
    `reading → offered no slower than on an empty Redis: p50 ${ms(full.probes.offered.p50)} ms against ${ms(empty.probes.offered.p50)} ms, p99 ${ms(full.probes.offered.p99)} against ${ms(empty.probes.offered.p99)} ms`,
  ]
}

/** The year step's section of bench/RESULTS.md: the year beside the empty start, route by route. */
export function yearMarkdown({
  size,
  summary,
  timings,
  settled,
  full,
  empty,
}: {
  size: YearSize
  summary: HistoryWorld['summary']
  timings: HistoryWorld['timings']
  settled: Settled
  full: YearRun
  empty: YearRun
}): string {
  const byName = new Map(empty.routes.map((r) => [r.name, r]))
  const rows = full.routes.map((r) => {
    const base = byName.get(r.name)
    return `| ${r.name} | ${r.status} | ${spreadCells(r)} | ${ms(r.stallMs)} | ${base ? `${ms(base.p50)} | ${ms(base.p99)} | ${ms(base.stallMs)}` : '– | – | –'} |`
  })
  return [
    `A year of a big airport (${size.devices.toLocaleString('en-US')} devices, ${size.technicians} technicians, ${size.customers.toLocaleString('en-US')} customers, ${summary.tickets.toLocaleString('en-US')} tickets, ${summary.notifications.total.toLocaleString('en-US')} notifications, ${summary.readings.toLocaleString('en-US')} readings) written through vigie's stores in ${Math.round(timings.totalMs / 1000)} s; Redis used ${mb(full.usedMemoryBytes)} with the year (the empty start's prefix beside it included).`,
    '',
    `Before measuring, the retention sweep ran until it found nothing, as a year of sweeps would have left Redis: ${settled.events.toLocaleString('en-US')} events past EVENTS_MAX_AGE trimmed, ${settled.readings.toLocaleString('en-US')} readings past READINGS_MAX_AGE, ${settled.tickets.toLocaleString('en-US')} finished tickets past TICKETS_COMPACT_AFTER compacted, in ${Math.round(settled.ms / 1000)} s (an upgrade's one-off cost, spread by the service over sweeps of 2,000 tickets). Each vigie then started and moved on the offers that fell due while it was stopped before the routes were timed.`,
    '',
    'vigie with every role in the measuring process, so a request that holds the event loop shows as a stall (`monitorEventLoopDelay`, 1 ms resolution). Times in ms, requests one after the other.',
    '',
    '| route | status | year p50 | year p99 | year max | year stall | empty p50 | empty p99 | empty stall |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    `| reading → ticket offered (${full.probes.offered.count} probes) | – | ${spreadCells(full.probes.offered)} | ${ms(full.probes.stallMs)} | ${ms(empty.probes.offered.p50)} | ${ms(empty.probes.offered.p99)} | ${ms(empty.probes.stallMs)} |`,
    `| SMS "1 <code>" → acknowledged (${full.probes.smsReply.count}, ${full.probes.repliesRefused} refused) | – | ${spreadCells(full.probes.smsReply)} | – | ${ms(empty.probes.smsReply.p50)} | ${ms(empty.probes.smsReply.p99)} | – |`,
    '',
    ...yearVerdicts(full, empty).map((line) => `- ${line}`),
  ].join('\n')
}
