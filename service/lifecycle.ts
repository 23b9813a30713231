import type { Logger } from 'pino'

export type Lifecycle = {
  /** Registers something to close; the last registered closes first. */
  add: (name: string, close: () => Promise<void> | void) => void
  /** Closes everything in reverse order, once; resolves false when the deadline cut it short. */
  shutdown: (reason: string) => Promise<boolean>
}

export function createLifecycle({ log, timeoutMs }: { log: Logger; timeoutMs: number }): Lifecycle {
  const closers: { name: string; close: () => Promise<void> | void }[] = []
  let closing: Promise<boolean> | undefined
  // The part being closed now: a passed deadline names what held it.
  let current: string | undefined

  async function closeAll(): Promise<boolean> {
    let clean = true
    for (const { name, close } of closers.reverse()) {
      current = name
      try {
        await close()
        log.debug({ part: name }, 'closed')
      } catch (err) {
        clean = false
        log.error({ err, part: name }, 'close failed')
      }
    }
    return clean
  }

  return {
    add: (name, close) => {
      closers.push({ name, close })
    },
    shutdown: (reason) => {
      if (closing) return closing
      log.info({ reason }, 'shutting down')
      let timer: NodeJS.Timeout | undefined
      const deadline = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => {
          log.error({ timeoutMs, closing: current }, 'shutdown deadline passed')
          resolve(false)
        }, timeoutMs)
      })
      closing = Promise.race([closeAll(), deadline]).finally(() => clearTimeout(timer))
      return closing
    },
  }
}
