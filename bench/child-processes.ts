import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'

export const repoRoot = fileURLToPath(new URL('..', import.meta.url))

export type BenchChild = {
  child: ChildProcess
  pid: number
  output: () => string
  /** Resolves with the exit code or signal once the child ended. */
  exited: Promise<number | string>
  /** Resolves once the child accepts TCP connections on the port; fails if it exits or the deadline passes. */
  waitForPort: (port: number, timeoutMs: number) => Promise<void>
  /** SIGTERM, then SIGKILL after graceMs; resolves with the exit code or signal. */
  stop: (graceMs?: number) => Promise<number | string>
}

/** Every child the bench starts, so that any way out of the bench ends them. */
export function createChildren() {
  const running = new Set<ChildProcess>()

  function start({
    args,
    env,
    command = process.execPath,
    raiseOpenFiles = false,
  }: {
    args: string[]
    env: Record<string, string>
    /** Another program than node (mosquitto). */
    command?: string
    /** Soft limit on open files raised to the hard one first: a child holding 20,000 sockets needs it. */
    raiseOpenFiles?: boolean
  }): BenchChild {
    // The shell execs the program, so the pid stays the program's own.
    const [file, argv] = raiseOpenFiles
      ? ['/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', command, ...args]]
      : [command, args]
    // Only what the bench gives, plus PATH and HOME, so a developer's own settings never leak in.
    const child = spawn(file, argv, {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    running.add(child)
    let text = ''
    const keep = (chunk: Buffer) => {
      text = (text + chunk.toString()).slice(-20_000)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    child.stdin?.on('error', () => {})
    const exited = once(child, 'exit').then(([code, signal]) => {
      running.delete(child)
      return (code ?? signal) as number | string
    })

    return {
      child,
      pid: child.pid ?? 0,
      output: () => text,
      exited,
      waitForPort: async (port, timeoutMs) => {
        const deadline = Date.now() + timeoutMs
        let gone = false
        void exited.then(() => {
          gone = true
        })
        while (!(await accepts(port))) {
          if (gone) throw new Error(`the child exited before listening on ${port}:\n${text}`)
          if (Date.now() > deadline)
            throw new Error(`nothing listened on ${port} after ${timeoutMs} ms:\n${text}`)
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
      },
      stop: async (graceMs = 15_000) => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
        const result = await exited
        clearTimeout(timer)
        return result
      },
    }
  }

  return {
    start,
    /** Synchronous, for process 'exit': whatever is still running is killed. */
    killAll: () => {
      for (const child of running) child.kill('SIGKILL')
    },
  }
}

export type Children = ReturnType<typeof createChildren>

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}
