import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { Logger } from 'pino'
import { z } from 'zod'

const mainPath = fileURLToPath(new URL('./main.ts', import.meta.url))

/** Over the child's IPC channel: the parent asks whether the child's roles work, the child answers (issue 17). */
export const readinessQuestionSchema = z.object({ type: z.literal('readiness?'), id: z.number().int() })
export const readinessAnswerSchema = z.object({
  type: z.literal('readiness'),
  id: z.number().int(),
  ready: z.boolean(),
})

/**
 * The rule workers in a process of their own, on the same Redis: the broker and the rules each get a
 * core. Restarted after a crash (their shards wait out the lease meanwhile); stopped first, within the parent's deadline.
 */
export function startWorkersChild({
  env,
  redisEnv,
  log,
  restartDelayMs = 1000,
  stopTimeoutMs,
}: {
  env: NodeJS.ProcessEnv
  /** Set over the parent's environment: the URL of a Redis the parent found or started (none through Sentinel or REDIS_URL). */
  redisEnv: Record<string, string>
  log: Logger
  restartDelayMs?: number
  /** Past this, a child still stopping is killed, so the parent's own stop fits its deadline. */
  stopTimeoutMs: number
}) {
  let child: ChildProcess | undefined
  let stopping = false
  let restart: NodeJS.Timeout | undefined
  let asked = 0
  const waiting = new Map<number, (ready: boolean) => void>()

  function start() {
    const started = spawn(process.execPath, [...process.execArgv, mainPath, 'start', '--roles', 'workers'], {
      // The parent may have started the Redis: the child uses that one, never one of its own.
      env: { ...env, ...redisEnv, VIGIE_WORKERS_PROCESS: 'no' },
      // The IPC channel closes when this process dies, however: the child then stops too (main.ts).
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    child = started
    log.info({ pid: started.pid }, 'rule workers started in a child process')
    started.on('message', (message) => {
      const answer = readinessAnswerSchema.safeParse(message)
      if (answer.success) waiting.get(answer.data.id)?.(answer.data.ready)
    })
    started.on('exit', (code, signal) => {
      for (const answer of waiting.values()) answer(false)
      if (stopping) return
      log.error({ code, signal }, 'rule workers process ended; starting it again')
      restart = setTimeout(start, restartDelayMs)
    })
  }
  start()

  return {
    pid: () => child?.pid,
    /** The child's own readiness, asked over IPC; false while it starts, hangs (past timeoutMs) or is gone. */
    isReady: (timeoutMs = 900): Promise<boolean> => {
      const running = child
      if (stopping || !running?.connected) return Promise.resolve(false)
      const id = ++asked
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => answer(false), timeoutMs)
        function answer(ready: boolean) {
          clearTimeout(timer)
          waiting.delete(id)
          resolve(ready)
        }
        waiting.set(id, answer)
        running.send({ type: 'readiness?', id }, (err) => {
          if (err) answer(false)
        })
      })
    },
    close: async () => {
      stopping = true
      clearTimeout(restart)
      const running = child
      if (!running || running.exitCode !== null || running.signalCode !== null) return
      const exited = once(running, 'exit')
      // Over IPC, not a signal: after a Ctrl-C the child has its SIGINT already, and a second one means "now".
      if (running.connected) running.disconnect()
      else running.kill('SIGTERM')
      const kill = setTimeout(() => {
        log.error({ pid: running.pid, stopTimeoutMs }, 'rule workers process still stopping; killed')
        running.kill('SIGKILL')
      }, stopTimeoutMs)
      await exited
      clearTimeout(kill)
    },
  }
}
