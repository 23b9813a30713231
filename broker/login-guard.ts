export type LoginGuardOptions = {
  /** Logins being checked or waiting, in all; past it a login is refused at once. */
  maxPending: number
  /** Logins of one address checked or held at once; more wait their turn. */
  perAddress: number
  /** Logins of one user name checked or held at once; more wait their turn. */
  perUser: number
  /** Every failure is answered this long after its login began, whatever made it fail. */
  failureDelayMs: number
  /** Failures of one user name answered after the base delay, within forgetMs; each later one doubles it. */
  atBaseDelay?: number
  /** The longest a failure is held, however many came before. */
  maxDelayMs?: number
  forgetMs?: number
  /** User names whose failures are counted; the oldest are forgotten first. */
  maxTracked?: number
  now?: () => number
}

export type LoginSlot = {
  /** Resolves when this login may be checked. */
  ready: Promise<void>
  /** The login failed: resolves when its answer may go out (its slot is held until then). */
  failed: () => Promise<void>
  /** The login succeeded: its user name's failures are forgotten, its slot freed at once. */
  succeeded: () => void
  /** Frees the slot without counting anything (the check itself broke). */
  release: () => void
}

type Failures = { count: number; last: number }

/**
 * Brute force and id probing at the MQTT login (issue 15). Every failure is answered after the same delay,
 * known id or not, doubling per failure of that user name past its fourth (only its own success forgets
 * them), and holds its place meanwhile: an address and a user name have a few logins in hand at once and
 * the rest wait, so a guesser's rate is bounded while a success, never delayed, leaves at once.
 */
export function createLoginGuard({
  maxPending,
  perAddress,
  perUser,
  failureDelayMs,
  atBaseDelay = 4,
  maxDelayMs = 30_000,
  forgetMs = 600_000,
  maxTracked = 100_000,
  now = Date.now,
}: LoginGuardOptions) {
  const failures = new Map<string, Failures>()
  const running = new Map<string, number>()
  const waiting = new Map<string, (() => void)[]>()
  let pending = 0

  function failuresOf(user: string): number {
    const entry = failures.get(user)
    if (!entry) return 0
    if (now() - entry.last > forgetMs) {
      failures.delete(user)
      return 0
    }
    return entry.count
  }

  function remember(user: string) {
    const count = failuresOf(user) + 1
    failures.delete(user) // re-inserted last: the Map's order is then oldest failure first
    failures.set(user, { count, last: now() })
    while (failures.size > maxTracked) failures.delete(failures.keys().next().value as string)
  }

  /** The delay a failure of this user name is answered after. */
  function delayFor(user: string): number {
    const extra = Math.max(0, failuresOf(user) - atBaseDelay + 1)
    return Math.min(maxDelayMs, failureDelayMs * 2 ** Math.min(extra, 16))
  }

  const sources = (address: string, user: string) => [`a:${address}`, `u:${user}`]
  const free = (source: string) =>
    (running.get(source) ?? 0) < (source.startsWith('a:') ? perAddress : perUser)

  function take(keys: string[]) {
    for (const key of keys) running.set(key, (running.get(key) ?? 0) + 1)
  }

  function give(keys: string[]) {
    for (const key of keys) {
      const left = (running.get(key) ?? 1) - 1
      if (left > 0) running.set(key, left)
      else running.delete(key)
    }
    // Waiters are woken in order; each takes its sources if both are free.
    for (const key of keys) {
      const queue = waiting.get(key)
      while (queue?.length && free(key)) {
        const wake = queue.shift()
        wake?.()
        if (queue.length === 0) waiting.delete(key)
      }
    }
  }

  return {
    delayFor,

    /** A slot for one login, or null when too many are pending (answer "server unavailable"). */
    enter: (address: string, user: string): LoginSlot | null => {
      if (pending >= maxPending) return null
      pending++
      const keys = sources(address, user)
      const started = now()
      let held = false
      let done = false
      const ready = new Promise<void>((resolve) => {
        const attempt = () => {
          if (done) return resolve()
          const blocked = keys.find((key) => !free(key))
          if (blocked === undefined) {
            take(keys)
            held = true
            return resolve()
          }
          const queue = waiting.get(blocked) ?? []
          queue.push(attempt)
          waiting.set(blocked, queue)
        }
        attempt()
      })
      const finish = () => {
        if (done) return
        done = true
        pending--
        if (held) give(keys)
      }
      return {
        ready,
        failed: async () => {
          // A check slower than the delay (a busy machine) answers at its next multiple, still alike for all.
          const delay = delayFor(user)
          const elapsed = now() - started
          const wait = delay > 0 ? Math.max(1, Math.ceil(elapsed / delay)) * delay - elapsed : 0
          remember(user)
          if (wait > 0) await new Promise<void>((resolve) => setTimeout(resolve, wait))
          finish()
        },
        succeeded: () => {
          failures.delete(user)
          finish()
        },
        release: finish,
      }
    },

    /** Logins waiting or being checked now. */
    pending: () => pending,
  }
}
