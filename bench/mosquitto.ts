import { accessSync, constants } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { findFreePort } from '../service/index.ts'
import type { Children } from './child-processes.ts'
import type { Target } from './targets.ts'

/** The mosquitto binary on the PATH (Debian's sbin dirs included), or undefined: the step is skipped. */
export function findMosquitto(path = process.env.PATH ?? ''): string | undefined {
  const dirs = [...path.split(delimiter).filter(Boolean), '/usr/sbin', '/usr/local/sbin']
  for (const dir of dirs) {
    const file = join(dir, 'mosquitto')
    try {
      accessSync(file, constants.X_OK)
      return file
    } catch {}
  }
  return undefined
}

/** The config a relay of the same load needs: loopback only, anyone in, nothing kept on disk. */
export function mosquittoConfig(port: number): string {
  return [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n')
}

/** Mosquitto on a free port with a generated config in a temp dir of its own, as a bench target. */
export async function startMosquitto({
  children,
  binary,
}: {
  children: Children
  binary: string
}): Promise<Target> {
  const dir = await mkdtemp(join(tmpdir(), 'vigie-suite-mosquitto-'))
  const port = await findFreePort()
  const configPath = join(dir, 'mosquitto.conf')
  await writeFile(configPath, mosquittoConfig(port))
  const started = performance.now()
  const child = children.start({ command: binary, args: ['-c', configPath], env: {}, raiseOpenFiles: true })
  const stop = async () => {
    await child.stop()
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await child.waitForPort(port, 15_000)
  } catch (error) {
    await stop()
    throw error
  }
  return { name: 'mosquitto', port, pid: child.pid, helpers: [], startMs: performance.now() - started, stop }
}
