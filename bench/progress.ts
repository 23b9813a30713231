/** One step of the run as the display knows it: a label and how long it should take. */
export type PlannedStep = { label: string; estimateSeconds: number }

export type ProgressLine = {
  index: number
  total: number
  label: string
  elapsedMs: number
  /** Time left in this step; undefined when unknown. */
  leftMs: number | undefined
  /** Time left in the whole run, this step's included. */
  runLeftMs: number | undefined
  detail: string
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  const minutes = Math.floor(seconds / 60)
  return `${minutes}:${String(seconds % 60).padStart(2, '0')}`
}

/** "[2/6] whole loop at 10,000/s  0:42, ~0:18 left (run ~6:30)  9,998 acked/s" */
export function formatProgressLine(line: ProgressLine): string {
  const left = line.leftMs === undefined ? '' : `, ~${formatDuration(line.leftMs)} left`
  const run = line.runLeftMs === undefined ? '' : ` (run ~${formatDuration(line.runLeftMs)})`
  const detail = line.detail ? `  ${line.detail}` : ''
  return `[${line.index}/${line.total}] ${line.label}  ${formatDuration(line.elapsedMs)}${left}${run}${detail}`
}

export type Progress = ReturnType<typeof createProgress>

/**
 * One line per step on stderr, with elapsed time and an ETA: rewritten in place every second on a
 * terminal, a plain line every few seconds otherwise (a log file, CI).
 */
export function createProgress({
  plan,
  stream = process.stderr,
  now = () => Date.now(),
  plainEveryMs = 5000,
}: {
  plan: PlannedStep[]
  stream?: NodeJS.WriteStream
  now?: () => number
  plainEveryMs?: number
}) {
  const tty = stream.isTTY === true
  let index = 0
  let startedAt = 0
  let detail = ''
  let fraction: number | undefined
  let timer: NodeJS.Timeout | undefined
  let current: PlannedStep = { label: '', estimateSeconds: 0 }

  // A step's last line is kept whole; the lines rewritten in place fit the terminal.
  const line = (fit = true): string => {
    const elapsedMs = now() - startedAt
    // A measured share of the work beats the plan's estimate once there is one.
    const leftMs =
      fraction !== undefined && fraction > 0.02
        ? (elapsedMs * (1 - fraction)) / fraction
        : Math.max(0, current.estimateSeconds * 1000 - elapsedMs)
    const laterMs = plan.slice(index).reduce((sum, step) => sum + step.estimateSeconds * 1000, 0)
    const text = formatProgressLine({
      index,
      total: plan.length,
      label: current.label,
      elapsedMs,
      leftMs,
      runLeftMs: leftMs + laterMs,
      detail,
    })
    const width = tty && fit ? (stream.columns ?? 120) - 1 : Number.POSITIVE_INFINITY
    return text.length > width ? `${text.slice(0, width - 1)}…` : text
  }
  const render = () => {
    if (tty) stream.write(`\r\x1b[2K${line()}`)
    else stream.write(`${line()}\n`)
  }
  const stopTimer = () => {
    if (timer) clearInterval(timer)
    timer = undefined
  }

  return {
    /** Starts the next planned step; `label` may name it more precisely than the plan did. */
    begin: (label?: string) => {
      stopTimer()
      current = plan[index] ?? { label: label ?? '', estimateSeconds: 0 }
      if (label) current = { ...current, label }
      index++
      startedAt = now()
      detail = ''
      fraction = undefined
      render()
      timer = setInterval(render, tty ? 1000 : plainEveryMs)
      timer.unref()
    },
    /** What the step is doing now, and how much of it is done (0–1) when that is known. */
    update: (text: string, done?: number) => {
      detail = text
      fraction = done
    },
    /** Ends the step with its outcome on a line of its own. */
    end: (outcome: string) => {
      stopTimer()
      detail = outcome
      fraction = 1
      const text = line(false)
      stream.write(tty ? `\r\x1b[2K${text}\n` : `${text}\n`)
    },
    /** A line of its own above the step's line, which comes back under it. */
    note: (text: string) => {
      if (tty && timer) stream.write(`\r\x1b[2K${text}\n${line()}`)
      else stream.write(`${text}\n`)
    },
    close: stopTimer,
  }
}
