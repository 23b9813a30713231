import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { VigieError } from '../domain/index.ts'

/** Debian's binary, installed by `node scripts/setup.mjs --need haproxy`. */
export const haproxyPath = '/usr/sbin/haproxy'

/** A vigie node behind the proxy: MQTT gets the devices, HTTP answers the health check on /readyz. */
export type HaproxyBackend = { name: string; mqttPort: number; httpPort: number }

export type HaproxyOptions = {
  backends: HaproxyBackend[]
  /** Where devices connect (MQTT over TCP). */
  mqttPort: number
  /** Where the API and console answer, when HAProxy fronts HTTP too. */
  httpPort?: number
  /** What HAProxy puts before each MQTT connection's bytes: send-proxy (v1), send-proxy-v2, or nothing. */
  proxyProtocol?: 'v1' | 'v2' | 'off'
  checkIntervalMs?: number
  bindHost?: string
  /** Connections at once; each takes two file descriptors, within the hard limit (`ulimit -Hn`, 20,000 here). */
  maxConnections?: number
  /** Where its configuration and admin socket go. */
  dir: string
}

export type Haproxy = {
  mqttPort: number
  httpPort?: number
  configPath: string
  /** Each MQTT backend's state as HAProxy sees it: UP, DOWN, or a transition such as "DOWN 1/2". */
  states: () => Promise<Record<string, string>>
  /** Resolves once HAProxy has the backend in that state (UP or DOWN). */
  waitForState: (name: string, state: 'UP' | 'DOWN', timeoutMs?: number) => Promise<void>
  output: () => string
  stop: () => Promise<void>
}

/**
 * haproxy.cfg in front of vigie nodes: MQTT in TCP mode with the PROXY protocol (so a node logs and throttles
 * by each device's address), and HTTP when asked; a node is in rotation while its /readyz answers 200.
 */
export function haproxyConfig({
  backends,
  mqttPort,
  httpPort,
  proxyProtocol = 'v2',
  checkIntervalMs = 1000,
  bindHost = '127.0.0.1',
  maxConnections = 9000,
  socketPath,
}: Omit<HaproxyOptions, 'dir'> & { socketPath: string }): string {
  const send = { v1: ' send-proxy', v2: ' send-proxy-v2', off: '' }[proxyProtocol]
  const check = `check inter ${checkIntervalMs}ms fall 2 rise 1`
  const http =
    httpPort === undefined
      ? []
      : [
          'frontend http',
          '  mode http',
          `  bind ${bindHost}:${httpPort}`,
          '  timeout client 75s',
          '  option forwardfor',
          '  default_backend http_nodes',
          'backend http_nodes',
          '  mode http',
          '  balance roundrobin',
          '  timeout server 75s',
          '  option httpchk GET /readyz',
          '  http-check expect status 200',
          ...backends.map(({ name, httpPort: port }) => `  server ${name} 127.0.0.1:${port} ${check}`),
        ]
  return [
    'global',
    `  stats socket ${socketPath} mode 600 level admin`,
    `  maxconn ${maxConnections}`,
    'defaults',
    '  mode tcp',
    '  timeout connect 1s',
    // MQTT connections idle for their keep-alive; vigie closes the dead ones itself.
    '  timeout client 1h',
    '  timeout server 1h',
    `  timeout check ${checkIntervalMs * 2}ms`,
    // A connection the chosen node refuses is tried once more, then on another node.
    '  retries 1',
    '  option redispatch',
    'frontend mqtt',
    `  bind ${bindHost}:${mqttPort}`,
    '  default_backend nodes',
    'backend nodes',
    '  balance leastconn',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    // A node marked down has its devices cut at once: they reconnect to one that is up.
    `  default-server ${check}${send} on-marked-down shutdown-sessions`,
    ...backends.map(
      ({ name, mqttPort: port, httpPort: health }) => `  server ${name} 127.0.0.1:${port} port ${health}`,
    ),
    ...http,
    '',
  ].join('\n')
}

/** The real haproxy on that configuration, in the foreground; resolves once its listeners are bound. */
export async function startHaproxy({ dir, ...options }: HaproxyOptions): Promise<Haproxy> {
  const socketPath = join(dir, 'haproxy-admin.sock')
  const configPath = join(dir, 'haproxy.cfg')
  writeFileSync(configPath, haproxyConfig({ ...options, socketPath }), { mode: 0o600 })
  // -db: in the foreground, without daemon mode, so the caller owns the process.
  const child = spawn(haproxyPath, ['-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  const collect = (chunk: Buffer) => {
    text += chunk.toString()
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  let ended: string | undefined
  child.once('error', (error: NodeJS.ErrnoException) => {
    ended ??=
      error.code === 'ENOENT' ? 'is not installed: run `npm run setup -- --need haproxy`' : error.message
  })
  const exited = once(child, 'exit').catch(() => undefined)
  child.once('exit', (code, signal) => {
    ended ??= `exited with ${code ?? signal}`
  })
  // Should this process die first, the proxy still goes with it.
  const kill = () => child.kill('SIGKILL')
  process.once('exit', kill)
  const stop = async () => {
    process.off('exit', kill)
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill('SIGTERM')
      await exited
    }
  }
  const states = async () => parseStates(await askAdmin(socketPath, 'show stat'))
  // Its admin socket answers once the listeners are bound; a probe of the port would reach a node.
  const deadline = performance.now() + 10_000
  for (;;) {
    if (ended) {
      await stop()
      throw new VigieError({ code: 'INTERNAL', message: `haproxy ${ended}:\n${text.trim()}` })
    }
    if (await askAdmin(socketPath, 'show info').catch(() => '')) break
    if (performance.now() > deadline) {
      await stop()
      throw new VigieError({ code: 'INTERNAL', message: `haproxy not listening after 10 s:\n${text.trim()}` })
    }
    await pause(50)
  }
  return {
    mqttPort: options.mqttPort,
    ...(options.httpPort === undefined ? {} : { httpPort: options.httpPort }),
    configPath,
    states,
    waitForState: async (name, state, timeoutMs = 10_000) => {
      const until = performance.now() + timeoutMs
      while ((await states().catch(() => ({}) as Record<string, string>))[name] !== state) {
        if (performance.now() > until)
          throw new VigieError({
            code: 'INTERNAL',
            message: `haproxy did not see ${name} ${state} in ${timeoutMs} ms`,
          })
        await pause(50)
      }
    },
    output: () => text,
    stop,
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** The MQTT backend's servers in the status column of `show stat` (CSV, its header line starting with "# "). */
function parseStates(csv: string): Record<string, string> {
  const [header = '', ...rows] = csv.trim().split('\n')
  const columns = header.replace(/^# /, '').split(',')
  const [proxy, server, status] = ['pxname', 'svname', 'status'].map((name) => columns.indexOf(name))
  const states: Record<string, string> = {}
  for (const row of rows) {
    const fields = row.split(',')
    const name = fields[server as number] ?? ''
    if (fields[proxy as number] === 'nodes' && name !== 'BACKEND')
      states[name] = fields[status as number] ?? ''
  }
  return states
}

/** One command on HAProxy's admin socket; the answer ends when HAProxy closes it. */
function askAdmin(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketPath })
    let text = ''
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString()
    })
    socket.once('error', reject)
    socket.once('end', () => resolve(text))
    socket.write(`${command}\n`)
  })
}
