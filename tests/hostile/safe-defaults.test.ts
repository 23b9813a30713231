// Issue 15, safe defaults: what a start with no settings exposes to the network and to other local users.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { networkInterfaces } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import mqtt from 'mqtt'
import { describe, expect, it } from 'vitest'
import { findFreePort, openClient } from '../../service/index.ts'
import { openTestRedis } from '../support/redis.ts'
import { spawnService } from '../support/service-process.ts'
import { makeTempDir } from '../support/temp-files.ts'
import { waitFor } from '../support/wait-for.ts'

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

/** Every file and folder under a directory, with its permission bits. */
function modesUnder(dir: string): Record<string, string> {
  const modes: Record<string, string> = {}
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    modes[name] = (statSync(join(dir, name)).mode & 0o777).toString(8)
  }
  return modes
}

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

describe('the redis-server vigie starts for itself', () => {
  it('wants a password no log line shows, and keeps its files (the link secret among them) to their owner', async () => {
    const dataDir = join(makeTempDir(), 'data')
    const redisDir = join(dataDir, 'redis')
    const [redisPort, httpPort, mqttPort] = [await findFreePort(), await findFreePort(), await findFreePort()]
    const service = spawnService({
      args: main,
      env: {
        VIGIE_REDIS_PORT: String(redisPort),
        VIGIE_DATA_DIR: dataDir,
        HTTP_PORT: String(httpPort),
        MQTT_PORT: String(mqttPort),
        BIND_HOST: '127.0.0.1',
        // Every connection of vigie's: the rule workers' child, BullMQ's and the API's.
        VIGIE_WORKERS_PROCESS: 'yes',
      },
    })
    try {
      await service.waitForLine(/"roles":\["workers"\].*"msg":"vigie started"/, 30_000)
      await service.waitForLine(/"roles":\["broker","api","notifier"\].*"msg":"vigie started"/)
      const aofDir = join(redisDir, 'appendonlydir')
      await waitFor(
        () =>
          readdirSync(aofDir).some((f) => readFileSync(join(aofDir, f), 'latin1').includes('link-secret')),
        { what: 'the link secret in the append-only file' },
      )

      // Another local user, or anything on the machine, talking to the port.
      const stranger = new Redis({ port: redisPort, lazyConnect: true, maxRetriesPerRequest: 0 })
      stranger.on('error', () => {})
      const read = await stranger.get('vigie:link-secret').then(
        (secret) => `read the link secret ${secret}`,
        (error: Error) => error.message,
      )
      stranger.disconnect()
      expect.soft(read).toMatch(/^NOAUTH/)
      expect.soft((statSync(dataDir).mode & 0o777).toString(8)).toBe('700')
      expect.soft((statSync(redisDir).mode & 0o777).toString(8)).toBe('700')
      const modes = modesUnder(redisDir)
      expect(Object.keys(modes)).toContain(join('appendonlydir', 'appendonly.aof.1.incr.aof'))
      for (const [name, mode] of Object.entries(modes)) {
        expect
          .soft(`${name} ${mode}`)
          .toBe(`${name} ${statSync(join(redisDir, name)).isDirectory() ? 700 : 600}`)
      }

      const password = readFileSync(join(redisDir, 'password'), 'utf8').trim()
      expect(password).toMatch(/^[0-9a-f]{64}$/)
      const owner = await openClient(`redis://:${password}@127.0.0.1:${redisPort}`, 2000)
      expect(await owner.get('vigie:link-secret')).toMatch(/^[\w-]{43}$/)
      expect(await owner.config('GET', 'protected-mode')).toEqual(['protected-mode', 'yes'])
      expect(await owner.config('GET', 'bind')).toEqual(['bind', '127.0.0.1'])
      owner.disconnect()
      // What `ps` shows every user: the command lines of redis-server and of the workers' child.
      const pids = [/"msg":"redis-server started"/, /"msg":"rule workers started in a child process"/].map(
        (pattern) =>
          Number(
            JSON.parse(
              service
                .output()
                .split('\n')
                .find((l) => pattern.test(l)) ?? '{}',
            ).pid,
          ),
      )
      for (const pid of pids) {
        const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
        expect(commandLine).toMatch(/redis-server|main\.ts/)
        expect(commandLine).not.toContain(password)
      }

      expect(await service.stop('SIGTERM')).toBe(0)
      expect(service.output()).toContain('"msg":"redis-server stopped"')
      expect(service.output()).not.toContain(password)
      await expect(openClient(`redis://:${password}@127.0.0.1:${redisPort}`, 1000)).rejects.toThrow(
        'is not reachable',
      )
    } finally {
      await service.stop('SIGTERM')
    }
  })
})
