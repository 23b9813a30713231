import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { rmSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { findFreePort } from '../../service/index.ts'
import { makeTempDir } from './temp-files.ts'
import { waitFor } from './wait-for.ts'

/** Debian's binary, installed by `node scripts/setup.mjs --need mosquitto`. */
export const mosquittoPath = '/usr/sbin/mosquitto'

export type Mosquitto = {
  url: string
  port: number
  output: () => string
  stop: () => Promise<void>
}

/** A real mosquitto on a free loopback port with a config of its own; never the system one on 1883. */
export async function startMosquitto({
  port: wanted,
  config = [],
}: {
  /** To start a broker again where clients knew the last one; a free port by default. */
  port?: number
  /** More mosquitto.conf lines. */
  config?: string[]
} = {}): Promise<Mosquitto> {
  const dir = makeTempDir('vigie-test-mosquitto-')
  const port = wanted ?? (await findFreePort())
  const configPath = join(dir, 'mosquitto.conf')
  const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', ...config]
  writeFileSync(configPath, `${lines.join('\n')}\n`)

  const child = spawn(mosquittoPath, ['-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] })
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
  // Should the test process die first, the broker still goes with it.
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

  const state = await waitFor(async () => (ended ? 'ended' : (await accepts(port)) && 'listening'), {
    what: `mosquitto listening on ${port}`,
  }).catch(async (error: unknown) => {
    await stop()
    throw error
  })
  if (state === 'ended') {
    await stop()
    throw new Error(`mosquitto ${ended}:\n${text}`)
  }
  return { url: `mqtt://127.0.0.1:${port}`, port, output: () => text, stop }
}

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
