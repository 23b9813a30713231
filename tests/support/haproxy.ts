import { rmSync } from 'node:fs'
import { type HaproxyBackend, startHaproxy as startOnPorts } from '../../cluster/index.ts'
import { findFreePort } from '../../service/index.ts'
import { makeTempDir } from './temp-files.ts'

export type { HaproxyBackend }

/** A real haproxy (TCP mode, with the PROXY protocol) on a free loopback port; never the system one. */
export async function startHaproxy({
  backends,
  proxyProtocol = 'v2',
  checkIntervalMs = 200,
}: {
  backends: HaproxyBackend[]
  proxyProtocol?: 'v1' | 'v2' | 'off'
  checkIntervalMs?: number
}) {
  const dir = makeTempDir('vigie-test-haproxy-')
  const proxy = await startOnPorts({
    dir,
    backends,
    mqttPort: await findFreePort(),
    proxyProtocol,
    checkIntervalMs,
  })
  return {
    ...proxy,
    /** Where devices connect (MQTT over TCP). */
    port: proxy.mqttPort,
    stop: async () => {
      await proxy.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export type Haproxy = Awaited<ReturnType<typeof startHaproxy>>
