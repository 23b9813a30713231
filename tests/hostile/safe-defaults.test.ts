// Issue 15, safe defaults: what a start with no settings exposes to the network and to other local users.
import { execFileSync } from 'node:child_process'
import { networkInterfaces } from 'node:os'
import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { findFreePort } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { spawnService } from '../support/service-process.ts'

const main = ['--import', 'tsx', 'service/main.ts', 'start']

/** The addresses listening on a TCP port of this machine, as `ss` shows them. */
function listeningHosts(port: number): string[] {
  const lines = execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' })
    .trim()
    .split('\n')
  return lines.filter(Boolean).map((line) => {
    const local = line.trim().split(/\s+/)[3] ?? ''
    return local.slice(0, local.lastIndexOf(':'))
  })
}

/** This machine's own IPv4 addresses that other machines may reach. */
const outsideAddresses = Object.values(networkInterfaces())
  .flat()
  .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
  .map((a) => a?.address ?? '')

describe('npm start with no site file', () => {
  it('serves the demo site, whose device secrets are public, on loopback only and says why', async () => {
    const { url, prefix } = await openTestRedis()
    const [httpPort, mqttPort] = [await findFreePort(), await findFreePort()]
    const service = spawnService({
      args: main,
      env: {
        REDIS_URL: url,
        REDIS_PREFIX: prefix,
        HTTP_PORT: String(httpPort),
        MQTT_PORT: String(mqttPort),
        VIGIE_ROLES: 'broker,api',
      },
    })
    try {
      await service.waitForLine(/"msg":"vigie started"/)
      expect.soft(listeningHosts(mqttPort)).toEqual(['127.0.0.1'])
      expect.soft(listeningHosts(httpPort)).toEqual(['127.0.0.1'])
      // A device of the demo site, with the secret printed in the repository, from another machine.
      for (const host of outsideAddresses) {
        const outcome = await mqtt
          .connectAsync({
            host,
            port: mqttPort,
            username: 'temp-lounge-1',
            password: 'demo-secret-temp-lounge-1',
            clientId: 'temp-lounge-1',
            reconnectPeriod: 0,
            connectTimeout: 5000,
          })
          .then(
            async (device) => {
              await device.endAsync(true)
              return `connected over ${host}`
            },
            (error: NodeJS.ErrnoException) => error.code,
          )
        expect.soft(outcome).toBe('ECONNREFUSED')
      }
      expect(service.output()).toMatch(
        /^vigie: the demo site's device secrets are public, so it is served on 127\.0\.0\.1 only; set VIGIE_CONFIG to your own site file to serve devices on the network$/m,
      )
    } finally {
      await service.stop('SIGTERM')
    }
  })

  it('refuses to serve the demo site on a network address without --demo, with one line and exit code 2', async () => {
    const { url, prefix } = await openTestRedis()
    const service = spawnService({
      args: main,
      env: {
        REDIS_URL: url,
        REDIS_PREFIX: prefix,
        HTTP_PORT: String(await findFreePort()),
        MQTT_PORT: String(await findFreePort()),
        VIGIE_ROLES: 'broker,api',
        BIND_HOST: '0.0.0.0',
      },
    })
    try {
      const outcome = await Promise.race([
        service.exited,
        service.waitForLine(/"msg":"vigie started"/).then(() => 'started on 0.0.0.0'),
      ])
      expect(outcome).toBe(2)
      expect(service.output()).toBe(
        'vigie: Invalid configuration (1 problem):\n' +
          `  environment variable BIND_HOST: the demo site's device secrets are public, so it is served on loopback only: set VIGIE_CONFIG to your own site file, or start with --demo to serve the demo site on "0.0.0.0" anyway\n`,
      )
    } finally {
      await service.stop('SIGTERM')
    }
  })
})
