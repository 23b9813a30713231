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
  let phase: YearPhase | undefined
  let phaseStart = 0
  let lastLine = 0
  return ({ phase: current, done, total }: YearProgress): void => {
    const at = now()
    if (current !== phase) {
      phase = current
      phaseStart = at
      lastLine = 0
    }
    const finished = done >= total
    if (!finished && at - lastLine < everyMs) return
    lastLine = at
    const seconds = Math.max(0.001, (at - phaseStart) / 1000)
    const rate = done / seconds
    const left = rate > 0 && !finished ? `, ~${Math.ceil((total - done) / rate)} s left` : ''
    write(
      `history: ${labels[current]} ${thousands(done)} of ${thousands(total)} ` +
        `(${thousands(rate)}/s, ${seconds.toFixed(0)} s${left})`,
    )
  }
}
