import type { YearPhase, YearProgress } from './generate-year.ts'

const labels: Record<YearPhase, string> = {
  world: 'devices, technicians, customers',
  tickets: 'tickets',
  readings: 'readings',
}

const thousands = (n: number) => Math.round(n).toLocaleString('en-US')

/** A line per phase every few seconds, and one as each phase ends: count, rate, time left. */
export function createProgressPrinter({
  write,
  now = () => Date.now(),
  everyMs = 2000,
}: {
  write: (line: string) => void
  now?: () => number
  everyMs?: number
}) {
  // Phases may run side by side (tickets and readings): each keeps its own clock.
  const phases = new Map<YearPhase, { start: number; lastLine: number }>()
  return ({ phase, done, total }: YearProgress): void => {
    const at = now()
    const clock = phases.get(phase) ?? { start: at, lastLine: 0 }
    phases.set(phase, clock)
    const finished = done >= total
    if (!finished && at - clock.lastLine < everyMs) return
    clock.lastLine = at
    const seconds = Math.max(0.001, (at - clock.start) / 1000)
    const rate = done / seconds
    const left = rate > 0 && !finished ? `, ~${Math.ceil((total - done) / rate)} s left` : ''
    write(
      `history: ${labels[phase]} ${thousands(done)} of ${thousands(total)} ` +
        `(${thousands(rate)}/s, ${seconds.toFixed(0)} s${left})`,
    )
  }
}
