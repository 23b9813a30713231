import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import type { Logger } from 'pino'
import { VigieError } from '../domain/index.ts'

export type RedisServer = { url: string; port: number; pid: number; stop: () => Promise<void> }

export type RedisServerOptions = {
  port: number
  /** Data directory; created when missing. AOF files go here. */
  dir: string
  log: Logger
  appendOnly?: boolean
  startTimeoutMs?: number
}

/** Starts a redis-server child bound to loopback and resolves once it accepts connections. */
export async function startRedisServer({
  port,
  dir,
  log,
  appendOnly = true,
  startTimeoutMs = 10_000,
}: RedisServerOptions): Promise<RedisServer> {
  const dataDir = resolve(dir)
  mkdirSync(dataDir, { recursive: true })
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--daemonize', 'no']
  args.push(
    '--appendonly',
    appendOnly ? 'yes' : 'no',
    '--save',
    '',
    '--protected-mode',
    'yes',
    '--logfile',
    '',
    // Per-command latency histograms cost every command a little; vigie reads its own figures, not these.
    '--latency-tracking',
    'no',
  )
  // A process group of its own: a Ctrl-C in the terminal reaches vigie, which drains, then stops this server.
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const output: string[] = []
  await waitUntilReady(child, output, startTimeoutMs)
  const pid = child.pid ?? 0
  log.info({ port, dir: dataDir, pid }, 'redis-server started')
  child.stdout?.resume()
  child.stderr?.resume()
  // Should this process end without shutting down (a second Ctrl-C), the server still gets its SIGTERM.
  const killOnExit = () => child.kill('SIGTERM')
  process.once('exit', killOnExit)
  const exited = new Promise<void>((done) =>
    child.once('exit', () => {
      process.off('exit', killOnExit)
      done()
    }),
  )
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      // redis flushes the AOF on SIGTERM; a hung one is killed so shutdown still ends.
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
      log.info({ port }, 'redis-server stopped')
    },
  }
}

function waitUntilReady(child: ChildProcess, output: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolveReady, reject) => {
    const fail = (reason: string, cause?: unknown) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      const tail = output.join('').trim().split('\n').slice(-5).join('\n')
      reject(
        new VigieError({
          code: 'REDIS_UNAVAILABLE',
          message: `redis-server ${reason}${tail ? `:\n${tail}` : ''}`,
          cause,
        }),
      )
    }
    const timer = setTimeout(() => fail(`did not start within ${timeoutMs} ms`), timeoutMs)
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString())
      if (/ready to accept connections/i.test(output.join(''))) {
        clearTimeout(timer)
        child.off('exit', onExit)
        resolveReady()
      }
    }
    const onExit = (code: number | null) => fail(`exited with code ${code}`)
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', onExit)
    child.once('error', (error: NodeJS.ErrnoException) =>
      fail(
        error.code === 'ENOENT'
          ? 'is not installed: run `npm run setup -- --need redis`, install redis-server, or set REDIS_URL'
          : 'could not be started',
        error,
      ),
    )
  })
}
