import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { findFreePort } from '../../service/index.ts'
import { spawnService } from '../support/service-process.ts'
import { waitFor } from '../support/wait-for.ts'

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('npm run cluster (issue 17)', () => {
  it('starts Redis with Sentinels, two nodes and HAProxy, serves through HAProxy, and stops them all on Ctrl-C', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigie-cluster-'))
    const [mqttPort, httpPort] = [await findFreePort(), await findFreePort()]
    const adminKey = 'cluster-script-admin-key-012345'
    const cluster = spawnService({
      args: [
        '--import',
        'tsx',
        'cluster/main.ts',
        '--mqtt-port',
        String(mqttPort),
        '--http-port',
        String(httpPort),
      ].concat(['--dir', dir]),
      env: { VIGIE_ADMIN_KEY: adminKey },
    })
    try {
      await cluster.waitForLine(/Ctrl-C stops everything/, 150_000)
      const text = cluster.output()
      expect(text).toContain(`mqtt://127.0.0.1:${mqttPort}`)
      expect(text).toMatch(/node-1: HTTP \d+, MQTT \d+, pid \d+/)
      expect(text).toMatch(/node-2: HTTP \d+, MQTT \d+, pid \d+/)
      expect(text.match(/redis-server \d+ \(master\)/g)).toHaveLength(1)
      expect(text.match(/redis-server \d+ \(replica\)/g)).toHaveLength(2)
      const pids = [...text.matchAll(/pid (\d+)/g)].map((match) => Number(match[1]))
      expect(pids).toHaveLength(5)

      expect((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status).toBe(200)
      const device = await mqtt.connectAsync({
        host: '127.0.0.1',
        port: mqttPort,
        clientId: 'temp-lounge-1',
        username: 'temp-lounge-1',
        password: 'demo-secret-temp-lounge-1',
        reconnectPeriod: 0,
      })
      await device.publishAsync(
        'devices/temp-lounge-1/telemetry',
        JSON.stringify({ type: 'temperature', celsius: 21.5 }),
        {
          qos: 1,
        },
      )
      await device.endAsync()
      const latest = await waitFor(
        async () => {
          const res = await fetch(`http://127.0.0.1:${httpPort}/api/devices/temp-lounge-1`, {
            headers: { authorization: `Bearer ${adminKey}` },
          })
          const body = (await res.json()) as { latest?: { celsius?: number } | null }
          return body.latest?.celsius === 21.5 ? body.latest : undefined
        },
        { timeoutMs: 20_000, intervalMs: 250, what: 'the reading, through HAProxy' },
      )
      expect(latest.celsius).toBe(21.5)

      expect(await cluster.stop('SIGINT')).toBe(0)
      await waitFor(() => pids.every((pid) => !alive(pid)), {
        timeoutMs: 20_000,
        what: 'every process stopped',
      })
    } finally {
      // Ctrl-C first even when the test failed: a SIGKILL would leave the nodes, Redis and HAProxy running.
      if (cluster.child.exitCode === null && cluster.child.signalCode === null) {
        cluster.child.kill('SIGINT')
        await waitFor(() => cluster.child.exitCode !== null || cluster.child.signalCode !== null, {
          timeoutMs: 30_000,
          what: 'the cluster stopped by its Ctrl-C',
        }).catch(() => undefined)
      }
      await cluster.stop('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    }
  }, 240_000)
})
