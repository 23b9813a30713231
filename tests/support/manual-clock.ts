import type { Clock } from '../../domain/index.ts'

export type ManualClock = Clock & {
  /** Moves the time on; what falls due is seen at the part's next check (the rule worker's tick). */
  advance: (ms: number) => void
}

/** A clock that stands still until the test moves it: timers fire when the test says, not the wall clock. */
export function createManualClock({ start = Date.now() }: { start?: number } = {}): ManualClock {
  let at = start
  return {
    now: () => at,
    advance: (ms) => {
      if (ms < 0) throw new Error('a clock does not go back')
      at += ms
    },
  }
}
