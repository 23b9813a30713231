import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { waitFor } from './wait-for.ts'

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url))

export type ServiceProcess = {
  child: ChildProcess
  output: () => string
  /** Resolves with the first output line matching, or fails at the deadline with the output so far. */
  waitForLine: (pattern: RegExp, timeoutMs?: number) => Promise<string>
  /** Resolves with the exit code (or signal name) once the process ended. */
  exited: Promise<number | string>
  /** Signals the process (or, with group, its whole process group, as Ctrl-C in a terminal does). */
  stop: (signal?: NodeJS.Signals, options?: { group?: boolean }) => Promise<number | string>
}

/** Runs a command of the repository (e.g. node --import tsx service/main.ts start) as a real child process. */
export function spawnService({
  command = process.execPath,
  args,
  env,
}: {
  command?: string
  args: string[]
  env: Record<string, string | undefined>
}): ServiceProcess {
  // Only what the test gives, plus PATH and HOME, so a developer's own settings never leak in.
  const childEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...env }
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let text = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString()
  })
  const exited = once(child, 'exit').then(([code, signal]) => (code ?? signal) as number | string)
  return {
    child,
    output: () => text,
    waitForLine: async (pattern, timeoutMs = 20_000) => {
      try {
        return await waitFor(() => text.split('\n').find((line) => pattern.test(line)), {
          timeoutMs,
          what: String(pattern),
        })
      } catch (error) {
        throw new Error(`${(error as Error).message}\n--- output ---\n${text}`)
      }
    },
    exited,
    stop: async (signal = 'SIGTERM', { group = false } = {}) => {
      if (child.exitCode === null && child.signalCode === null && child.pid) {
        process.kill(group ? -child.pid : child.pid, signal)
      }
      return exited
    },
  }
}
