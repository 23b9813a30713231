import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { VigieError } from '../domain/index.ts'

export type HaproxyBackend = { name: string; mqttPort: number; httpPort: number }

export type Haproxy = {
  mqttPort: number
  httpPort: number
  configPath: string
  stop: () => Promise<void>
}

/**
 * HAProxy's configuration in front of vigie nodes: MQTT in TCP mode to the node with the fewest connections,
 * with the PROXY protocol (v2) so a node sees each device's address, and HTTP; a node is in rotation while
 * its /readyz answers 200.
 */
export function haproxyConfig({
  backends,
  mqttPort,
  httpPort,
  bindHost = '127.0.0.1',
  checkIntervalMs = 1000,
}: {
  backends: HaproxyBackend[]
  mqttPort: number
  httpPort: number
  bindHost?: string
  checkIntervalMs?: number
}): string {
  const check = `check inter ${checkIntervalMs} fall 2 rise 2`
  return [
    'global',
    '  maxconn 60000',
    'defaults',
    '  timeout connect 5s',
    // MQTT connections idle for their keep-alive; vigie closes the dead ones itself.
    '  timeout client 1h',
    '  timeout server 1h',
    '  timeout check 2s',
    'frontend mqtt',
    '  mode tcp',
    `  bind ${bindHost}:${mqttPort}`,
    '  default_backend vigie_mqtt',
    'backend vigie_mqtt',
    '  mode tcp',
    '  balance leastconn',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    ...backends.map(
      (node) =>
        `  server ${node.name} 127.0.0.1:${node.mqttPort} ${check} port ${node.httpPort} send-proxy-v2 on-marked-down shutdown-sessions`,
    ),
    'frontend http',
    '  mode http',
    `  bind ${bindHost}:${httpPort}`,
    '  timeout client 75s',
    '  option forwardfor',
    '  default_backend vigie_http',
    'backend vigie_http',
    '  mode http',
    '  balance roundrobin',
    '  timeout server 75s',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    ...backends.map((node) => `  server ${node.name} 127.0.0.1:${node.httpPort} ${check}`),
    '',
  ].join('\n')
}

/** Starts the haproxy binary on that configuration (written under dir); resolves once both ports accept. */
export async function startHaproxy({
  dir,
  startTimeoutMs = 10_000,
  ...options
}: Parameters<typeof haproxyConfig>[0] & { dir: string; startTimeoutMs?: number }): Promise<Haproxy> {
  const configPath = join(dir, 'haproxy.cfg')
  writeFileSync(configPath, haproxyConfig(options), { mode: 0o600 })
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new VigieError({
          code: 'INTERNAL',
          message:
            error.code === 'ENOENT'
              ? 'haproxy is not installed: run `npm run setup -- --need haproxy`'
              : `haproxy could not be started: ${error.message}`,
        }),
      ),
    )
    child.once('exit', (code) =>
      reject(
        new VigieError({ code: 'INTERNAL', message: `haproxy exited with code ${code}:\n${output.trim()}` }),
      ),
    )
  })
  failed.catch(() => {})
  const exited = once(child, 'exit')
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    await exited
  }
  try {
    await Promise.race([
      failed,
      Promise.all([accepting(options.mqttPort, startTimeoutMs), accepting(options.httpPort, startTimeoutMs)]),
    ])
  } catch (error) {
    await stop()
    throw error
  }
  return { mqttPort: options.mqttPort, httpPort: options.httpPort, configPath, stop }
}

async function accepting(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    if (Date.now() > deadline)
      throw new VigieError({
        code: 'INTERNAL',
        message: `haproxy not listening on ${port} after ${timeoutMs} ms`,
      })
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
