import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import type { Logger } from 'pino'
import { VigieError } from '../domain/index.ts'

export type RedisServer = {
  url: string
  port: number
  pid: number
  stop: () => Promise<void>
  /** SIGKILL, as a crash would: resolves once it has exited. */
  kill: () => Promise<void>
}

export type RedisServerOptions = {
  port: number
  /** Data directory; created when missing. AOF files go here, readable by their owner only. */
  dir: string
  log: Logger
  appendOnly?: boolean
  startTimeoutMs?: number
  /** Clients must authenticate with it; redis-server reads it on its standard input, never its command line. */
  password?: string
  /** More arguments, e.g. `--replicaof 127.0.0.1 6379` for a replica (issue 17). */
  extraArgs?: string[]
  /** Runs a Sentinel instead, with this configuration (written under dir, where Sentinel rewrites it). */
  sentinelConfig?: string
}

/** Starts a redis-server child bound to loopback and resolves once it accepts connections. */
export async function startRedisServer({
  port,
  dir,
  log,
  appendOnly = true,
  startTimeoutMs = 10_000,
  password,
  extraArgs = [],
  sentinelConfig,
}: RedisServerOptions): Promise<RedisServer> {
  const dataDir = resolve(dir)
  makePrivateDir(dataDir)
  const args: string[] = []
  if (sentinelConfig !== undefined) {
    const path = join(dataDir, 'sentinel.conf')
    writeFileSync(path, sentinelConfig, { mode: 0o600 })
    args.push(path, '--sentinel', '--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'no')
    args.push('--logfile', '')
  } else {
    // `-` first: the configuration (the password) comes on standard input, which `ps` does not show.
    if (password !== undefined) args.push('-')
    args.push('--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--daemonize', 'no')
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
  }
  args.push(...extraArgs)
  // Its files (the AOF holds every secret vigie keeps in Redis) are created for their owner only.
  const umask = process.umask(0o077)
  let child: ChildProcess
  try {
    // A process group of its own: a Ctrl-C in the terminal reaches vigie, which drains, then stops this server.
    child = spawn('redis-server', args, {
      stdio: [password === undefined || sentinelConfig !== undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    })
  } finally {
    process.umask(umask)
  }
  if (password !== undefined && child.stdin) {
    child.stdin.on('error', () => {}) // a server that exits at once is reported by waitUntilReady
    // masterauth too: should it become a replica after a failover, it authenticates to the new master.
    child.stdin.end(`requirepass ${password}\nmasterauth ${password}\n`)
  }
  const output: string[] = []
  const ready = sentinelConfig === undefined ? /ready to accept connections/i : /\+monitor master/
  await waitUntilReady(child, output, startTimeoutMs, ready)
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
    url: password === undefined ? `redis://127.0.0.1:${port}` : ownRedisUrl(port, password),
    port,
    pid,
    kill: () => {
      child.kill('SIGKILL')
      return exited
    },
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

/** The URL of a redis-server on a loopback port that wants this password. */
export function ownRedisUrl(port: number, password: string): string {
  return `redis://:${password}@127.0.0.1:${port}`
}

/**
 * The password of the redis-server vigie starts for itself, kept in its data directory (0600) so that a
 * later start finds that server again should it outlive the vigie that started it (a kill -9).
 */
export function ownRedisPassword(dir: string): string {
  makePrivateDir(dir)
  const path = join(dir, 'password')
  let kept = ''
  try {
    kept = readFileSync(path, 'utf8').trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  if (/^[0-9a-f]{64}$/.test(kept)) return kept
  const password = randomBytes(32).toString('hex')
  writeFileSync(path, `${password}\n`, { mode: 0o600 })
  chmodSync(path, 0o600)
  return password
}

/** The directory, and everything in it, readable by its owner only; a data dir of an older vigie is tightened. */
function makePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const path = join(dir, name)
    const stat = lstatSync(path)
    if (stat.isSymbolicLink()) continue
    const mode = stat.isDirectory() ? 0o700 : 0o600
    if ((stat.mode & 0o777) !== mode) chmodSync(path, mode)
  }
}

function waitUntilReady(
  child: ChildProcess,
  output: string[],
  timeoutMs: number,
  ready: RegExp,
): Promise<void> {
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
      if (ready.test(output.join(''))) {
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
