import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../config/index.ts'
import {
  parseSimulatorArgs,
  SimulatorError,
  scenarioDevices,
  simulatableDevices,
} from '../../simulators/index.ts'
import { makeTempDir, writeTempFile } from '../support/temp-files.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

const main = join(import.meta.dirname, '../../simulators/main.ts')

/** Runs the CLI to its end; resolves with its exit code and output. */
async function simulate(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString()
  })
  const [code] = (await once(child, 'exit')) as [number]
  return { code, out, err }
}

const problem = (args: string[]) => {
  try {
    parseSimulatorArgs(args)
  } catch (error) {
    return error instanceof SimulatorError ? `${error.code}: ${error.message}` : String(error)
  }
  return 'no problem'
}

describe('the flags', () => {
  it('takes a generated fleet with a rate, a seed, a duration and cued scenarios', () => {
    const flags = parseSimulatorArgs([
      '--devices',
      '5000',
      '--rate',
      '2/s',
      '--seed',
      's',
      '--duration',
      '60s',
      '--scenario',
      'door-forced@30s:zone-001-door-002',
      '--scenario',
      'zone-heat@1m-4m:zone-002',
    ])
    expect(flags).toMatchObject({ devices: 5000, rate: 2, seed: 's', duration: 60_000, concurrency: 200 })
    expect(flags !== 'help' && flags.scenario).toEqual([
      { name: 'door-forced', atMs: 30_000, target: 'zone-001-door-002' },
      { name: 'zone-heat', atMs: 60_000, endMs: 240_000, target: 'zone-002' },
    ])
  })

  it('says clearly what is wrong', () => {
    expect(problem([])).toBe('SIM_BAD_OPTIONS: give one of --site FILE or --devices N')
    expect(problem(['--devices', '10', '--rate', 'fast'])).toContain('--rate: readings per device like 2/s')
    expect(problem(['--devices', '10', '--duration', 'soon'])).toContain('--duration: a duration like 90s')
    expect(problem(['--devices', '10', '--scenario', 'flood@1s'])).toMatch(
      /^SIM_UNKNOWN_SCENARIO: .*unknown scenario/,
    )
    expect(problem(['--devices', '10', '--scenario', 'door-forced@2m-1m'])).toContain(
      'the end comes before the start',
    )
    expect(problem(['--site', 'x.yaml', '--write-site', 'y.yaml'])).toContain(
      '--write-site goes with --devices N',
    )
    expect(problem(['--devices', '10', '--bogus'])).toMatch(/^SIM_BAD_OPTIONS: Unknown option '--bogus'/)
  })

  it('names a scenario target that does not fit', () => {
    const { devices } = simulatableDevices([
      { id: 't1', kind: 'temperature', site: 's1', zone: 'z1', secret: 'secret-t1' },
      { id: 'h1', kind: 'door', site: 's1', zone: 'z1', secretHash: 'scrypt$1$1$1$a$b' },
    ])
    expect(devices.map((d) => d.id)).toEqual(['t1'])
    expect(() => scenarioDevices('door-forced', 't1', devices)).toThrow(
      'Scenario door-forced: t1 is a temperature device; it acts on door',
    )
    expect(() => scenarioDevices('zone-heat', 'nowhere', devices)).toThrow(
      'no simulated device, zone or site nowhere',
    )
    expect(scenarioDevices('zone-heat', undefined, devices).map((d) => d.id)).toEqual(['t1'])
  })
})

describe('npm run simulate', () => {
  let world: TestService
  const site = `
sites:
  - { id: s1, name: Terminal, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 }, zones: [{ id: z1, name: One }] }
devices:
  - { id: t1, kind: temperature, site: s1, zone: z1, secret: "secret-t1" }
  - { id: d1, kind: door, site: s1, zone: z1, secret: "secret-d1" }
  - { id: hashed, kind: door, site: s1, zone: z1, secretHash: "scrypt$16384$8$1$c2FsdA$aGFzaA" }
rules:
  - { id: door-forced, name: Door forced, match: { kind: door }, condition: { unauthorised: true }, severity: critical, skill: security }
`
  beforeAll(async () => {
    world = await startTestService({ site })
  })
  afterAll(async () => {
    await world?.close()
  })

  it('writes a generated site vigie accepts', async () => {
    const path = join(makeTempDir(), 'fleet.yaml')
    const run = await simulate(['--devices', '120', '--seed', 'w', '--write-site', path])
    expect(run).toMatchObject({ code: 0, err: '' })
    expect(run.out).toContain(`wrote 120 devices to ${path}`)
    const config = loadConfig({ env: { VIGIE_CONFIG: path } })
    expect(config.site.devices).toHaveLength(120)
    expect(readFileSync(path, 'utf8')).toContain('zone-003-aed-017')
  })

  it('plays a site file for a while, says which devices it cannot play, and prints its progress', async () => {
    const run = await simulate([
      '--site',
      writeTempFile('site.yaml', site),
      '--mqtt',
      `mqtt://127.0.0.1:${world.mqttPort}`,
      '--rate',
      '5/s',
      '--duration',
      '3s',
      '--progress',
      '1s',
      '--scenario',
      'door-forced@1s:d1',
    ])
    expect(run.code).toBe(0)
    expect(run.err).toContain('1 device(s) have only a secretHash and cannot be simulated (hashed)')
    expect(run.out).toMatch(/\[ +1s\] connected \d\/2 · sent \d+/)
    expect(run.out).toContain('scenario door-forced started on d1')
    expect(run.out).toMatch(/done: connected 0\/2 · sent \d+ · acked \d+ · PUBACK p50 [\d.]+ ms/)
    const tickets = await waitFor(
      async () => {
        const { items } = await world.api<{ items: { rule: string }[] }>('/api/tickets?device=d1')
        return items.length > 0 ? items : false
      },
      { what: 'the forced door ticket' },
    )
    expect(tickets.map((t) => t.rule)).toEqual(['door-forced'])
    const readings = await world.api<{ items: unknown[] }>('/api/devices/t1/readings?limit=5')
    expect(readings.items).toHaveLength(5)
  })

  it('stops with exit code 2 and the reason on a bad site file', async () => {
    const run = await simulate(['--site', writeTempFile('bad.yaml', 'sites: []\n')])
    expect(run.code).toBe(2)
    expect(run.err).toContain('simulate: Invalid configuration')
  })
})
