import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { findFreePort } from '../../service/index.ts'
import { makeTempDir } from './temp-files.ts'
import { waitFor } from './wait-for.ts'

/** Debian's binary, installed by `node scripts/setup.mjs --need haproxy`. */
export const haproxyPath = '/usr/sbin/haproxy'

/** A vigie node behind the proxy: MQTT gets the devices, HTTP answers the health check on /readyz. */
export type HaproxyBackend = { name: string; mqttPort: number; httpPort: number }

export type Haproxy = {
  /** Where devices connect (MQTT over TCP). */
  port: number
  /** Each backend's state as HAProxy sees it: UP, DOWN, or a transition such as "DOWN 1/2". */
  states: () => Promise<Record<string, string>>
  /** Resolves once HAProxy has the backend in that state (UP or DOWN). */
  waitForState: (name: string, state: 'UP' | 'DOWN', timeoutMs?: number) => Promise<void>
  output: () => string
  stop: () => Promise<void>
}

/** haproxy.cfg: one TCP frontend over the nodes, each checked with GET /readyz on its HTTP port. */
function configText({
  port,
  backends,
  proxyProtocol,
  checkIntervalMs,
  socketPath,
}: {
  port: number
  backends: HaproxyBackend[]
  proxyProtocol: 'v1' | 'v2' | 'off'
  checkIntervalMs: number
  socketPath: string
}): string {
  const send = { v1: ' send-proxy', v2: ' send-proxy-v2', off: '' }[proxyProtocol]
  return [
    'global',
    `  stats socket ${socketPath} mode 600 level admin`,
    '  nbthread 1',
    'defaults',
    '  mode tcp',
    '  timeout connect 1s',
    '  timeout client 60s',
    '  timeout server 60s',
    `  timeout check ${checkIntervalMs * 2}ms`,
    // A connection the chosen node refuses is tried once more, then on another node.
    '  retries 1',
    '  option redispatch',
    'frontend mqtt',
    `  bind 127.0.0.1:${port}`,
    '  default_backend nodes',
    'backend nodes',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    `  default-server inter ${checkIntervalMs}ms fall 2 rise 1${send}`,
    ...backends.map(
      ({ name, mqttPort, httpPort }) => `  server ${name} 127.0.0.1:${mqttPort} check port ${httpPort}`,
    ),
    '',
  ].join('\n')
}

/** A real haproxy (TCP mode, with the PROXY protocol) on a free loopback port; never the system one. */
export async function startHaproxy({
  backends,
  proxyProtocol = 'v2',
  checkIntervalMs = 200,
}: {
  backends: HaproxyBackend[]
  /** What HAProxy puts before each connection's bytes: send-proxy (v1), send-proxy-v2, or nothing. */
  proxyProtocol?: 'v1' | 'v2' | 'off'
  checkIntervalMs?: number
}): Promise<Haproxy> {
  const dir = makeTempDir('vigie-test-haproxy-')
  const port = await findFreePort()
  const socketPath = join(dir, 'admin.sock')
  const configPath = join(dir, 'haproxy.cfg')
  writeFileSync(configPath, configText({ port, backends, proxyProtocol, checkIntervalMs, socketPath }))

  // -db: in the foreground, without daemon mode, so the test owns the process.
  const child = spawn(haproxyPath, ['-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] })
  let text = ''
  const collect = (chunk: Buffer) => {
    text += chunk.toString()
  }
  child.stdout.on('data', collect)
  child.stderr.on('data', collect)
  let ended: string | undefined
  child.once('error', (error) => {
    ended ??= error.message
  })
  const exited = once(child, 'exit').catch(() => undefined)
  child.once('exit', (code, signal) => {
    ended ??= `exited with ${code ?? signal}`
  })
  // Should the test process die first, the proxy still goes with it.
  const kill = () => child.kill('SIGKILL')
  process.once('exit', kill)

  const stop = async () => {
    process.off('exit', kill)
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      child.kill('SIGTERM')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  }

  const states = async () => parseStates(await askAdmin(socketPath, 'show stat'))
  const waitForState = async (name: string, state: 'UP' | 'DOWN', timeoutMs = 10_000) => {
    await waitFor(async () => (await states())[name] === state, {
      timeoutMs,
      intervalMs: 50,
      what: `haproxy to see ${name} ${state}`,
    })
  }

  // Its admin socket answers once the listeners are bound; a probe of the port would reach a node.
  const started = await waitFor(
    async () => (ended ? 'ended' : (await askAdmin(socketPath, 'show info')) && 'up'),
    {
      what: `haproxy listening on ${port}`,
    },
  ).catch(async (error: unknown) => {
    await stop()
    throw error
  })
  if (started === 'ended') {
    await stop()
    throw new Error(`haproxy ${ended}:\n${text}`)
  }
  return { port, states, waitForState, output: () => text, stop }
}

/** The backend servers' status column of `show stat` (CSV, its header line starting with "# "). */
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
