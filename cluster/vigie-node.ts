import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { VigieError } from '../domain/index.ts'

const mainPath = fileURLToPath(new URL('../service/main.ts', import.meta.url))

export type VigieNode = {
  name: string
  httpPort: number
  mqttPort: number
  pid: number
  logPath: string
  /** SIGTERM (the node drains), SIGKILL past the deadline; resolves once it exited. */
  stop: (graceMs?: number) => Promise<void>
}

/**
 * One vigie node of the cluster: `service/main.ts start` in a process of its own, its log lines in a file,
 * resolved once its /readyz answers 200.
 */
export async function startVigieNode({
  name,
  env,
  httpPort,
  mqttPort,
  logPath,
  readyTimeoutMs = 120_000,
}: {
  name: string
  /** The node's whole environment: the cluster gives the Redis, ports and data directory. */
  env: NodeJS.ProcessEnv
  httpPort: number
  mqttPort: number
  logPath: string
  readyTimeoutMs?: number
}): Promise<VigieNode> {
  const logFile = createWriteStream(logPath, { flags: 'a', mode: 0o600 })
  const child: ChildProcess = spawn(process.execPath, [...process.execArgv, mainPath, 'start'], {
    env: { ...env, HTTP_PORT: String(httpPort), MQTT_PORT: String(mqttPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own group: a Ctrl-C reaches the cluster, which stops the nodes in order.
    detached: true,
  })
  child.stdout?.pipe(logFile)
  child.stderr?.pipe(logFile)
  const exited = once(child, 'exit')
  const stop = async (graceMs = 15_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }
  const deadline = performance.now() + readyTimeoutMs
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new VigieError({
        code: 'INTERNAL',
        message: `${name} exited during its start (code ${child.exitCode ?? child.signalCode}): see ${logPath}`,
      })
    const status = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(
      (res) => res.status,
      () => 0,
    )
    if (status === 200) break
    if (performance.now() > deadline) {
      await stop()
      throw new VigieError({
        code: 'NOT_READY',
        message: `${name} not ready after ${readyTimeoutMs} ms: see ${logPath}`,
      })
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  return { name, httpPort, mqttPort, pid: child.pid ?? 0, logPath, stop }
}
