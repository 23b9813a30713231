/** Time as the simulators see it: injected, so a test can drive it and two runs can be compared. */
export type Clock = {
  now: () => number
  /** Runs `task` once the clock reaches `at`; returns a function that cancels it. */
  schedule: (at: number, task: () => void) => () => void
}

/** The machine's clock and timers. */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    schedule: (at, task) => {
      const timer = setTimeout(task, Math.max(0, at - Date.now()))
      return () => clearTimeout(timer)
    },
  }
}

export type ManualClock = Clock & {
  /** Moves time forward, running every task due on the way in time order (ties: scheduling order). */
  advance: (ms: number) => Promise<void>
  /** Tasks waiting. */
  pending: () => number
}

/** A clock that moves only when told to: tests drive it, nothing waits on real time. */
export function createManualClock(start: number): ManualClock {
  let now = start
  let order = 0
  const tasks = new Map<number, { at: number; order: number; task: () => void }>()
  const earliest = () => {
    let first: { at: number; order: number; task: () => void } | undefined
    for (const entry of tasks.values()) {
      if (!first || entry.at < first.at || (entry.at === first.at && entry.order < first.order)) first = entry
    }
    return first
  }
  return {
    now: () => now,
    schedule: (at, task) => {
      const id = order++
      tasks.set(id, { at: Math.max(at, now), order: id, task })
      return () => {
        tasks.delete(id)
      }
    },
    advance: async (ms) => {
      const until = now + ms
      for (;;) {
        const first = earliest()
        if (!first || first.at > until) break
        tasks.delete(first.order)
        now = first.at
        first.task()
        // Let the promises a task started settle before the next one runs, as real timers would.
        for (let i = 0; i < 10; i++) await Promise.resolve()
      }
      now = until
    },
    pending: () => tasks.size,
  }
}

/** Resolves once the clock reaches now + ms. */
export function waitOn(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => {
    clock.schedule(clock.now() + ms, resolve)
  })
}
