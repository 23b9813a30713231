import type { Logger } from 'pino'
import type { CommandStore } from './command-store.ts'

/**
 * Issue 19: marks expired the commands left unanswered past their expiry, read from the injected clock at
 * each check; any number of processes may run it, each change being a compare-and-swap.
 */
export function startCommandExpiry({
  commands,
  now,
  logger,
  everyMs = 500,
}: {
  commands: Pick<CommandStore, 'expireDue'>
  now: () => number
  logger: Logger
  everyMs?: number
}): { close: () => Promise<void> } {
  let running: Promise<unknown> = Promise.resolve()
  const timer = setInterval(() => {
    running = running.then(() =>
      commands.expireDue(now()).catch((err: unknown) => logger.warn({ err }, 'command expiry check failed')),
    )
  }, everyMs)
  timer.unref()
  return {
    close: async () => {
      clearInterval(timer)
      await running
    },
  }
}
