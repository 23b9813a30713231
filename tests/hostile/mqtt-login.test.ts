import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { heldLogin, timedLogin } from '../support/raw-mqtt.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

const devices = Array.from({ length: 12 }, (_, i) => `door-${i + 1}`)
const site = `
sites: [{ id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices:
${devices.map((id) => `  - { id: ${id}, kind: door, site: s1, secret: "secret-${id}" }`).join('\n')}
rules: []
`

const failureDelay = 300
let fast: TestService
// A failure delay long enough that no honest login on a busy machine comes near it.
let slow: TestService

beforeAll(async () => {
  ;[fast, slow] = await Promise.all([
    startTestService({
      site,
      env: {
        MQTT_AUTH_FAILURE_DELAY: `${failureDelay}ms`,
        MQTT_AUTH_PENDING_PER_USER: '4',
        MQTT_AUTH_PENDING_PER_ADDRESS: '16',
      },
    }),
    startTestService({ site, env: { MQTT_AUTH_FAILURE_DELAY: '3s' } }),
  ])
})
afterAll(async () => {
  await fast?.close()
  await slow?.close()
})

const good = (world: TestService, id: string, localAddress?: string) =>
  timedLogin(world.mqttPort, {
    clientId: id,
    username: id,
    password: `secret-${id}`,
    ...(localAddress ? { localAddress } : {}),
  })
const wrong = (world: TestService, username: string, localAddress?: string) =>
  timedLogin(world.mqttPort, {
    clientId: username,
    username,
    password: 'a-guess',
    ...(localAddress ? { localAddress } : {}),
  })
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0

describe('an attacker holding one valid device', () => {
  it("cannot reset the count of another device's failures with its own good logins", async () => {
    const times: number[] = []
    for (let i = 0; i < 6; i++) {
      const guess = await wrong(fast, 'door-2', '127.0.0.5')
      expect(guess.code).toBe(4)
      times.push(guess.ms)
      expect((await good(fast, 'door-1', '127.0.0.5')).code).toBe(0)
    }
    // Four failures at the base delay, then each doubles: the good logins in between reset nothing.
    expect(Math.min(...times)).toBeGreaterThanOrEqual(failureDelay - 5)
    expect(times[4]).toBeGreaterThanOrEqual(2 * failureDelay - 5)
    expect(times[5]).toBeGreaterThanOrEqual(4 * failureDelay - 5)
  })

  it('gets at most four guesses at one device in hand at once, from however many addresses', async () => {
    const guesses = await Promise.all(
      Array.from({ length: 5 }, (_, i) => wrong(slow, 'door-3', `127.0.2.${i + 1}`)),
    )
    expect(guesses.every((g) => g.code === 4)).toBe(true)
    const times = guesses.map((g) => g.ms).sort((a, b) => a - b)
    // The fifth waits for a place, then for a doubled delay: four failures of door-3 came before it.
    expect(times[0]).toBeGreaterThanOrEqual(2995)
    expect(times[4]).toBeGreaterThanOrEqual(5995)
  })
})

describe('a refused login', () => {
  it('costs the same whether the id exists or not', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `door-${i + 4}`)
    // A device that logged in before has its secret's check cached: its wrong guesses are the fast ones.
    expect((await Promise.all(ids.map((id) => good(slow, id)))).every((login) => login.code === 0)).toBe(true)
    // Launched in turns, so whatever else the machine does weighs on both alike.
    const pairs = await Promise.all(
      ids.map(async (id) => Promise.all([wrong(slow, id), wrong(slow, `no-such-${id}`)])),
    )
    const known = pairs.map(([k]) => k.ms)
    const unknown = pairs.map(([, u]) => u.ms)
    expect(Math.min(...known, ...unknown)).toBeGreaterThanOrEqual(2995)
    expect(Math.abs(median(known) - median(unknown))).toBeLessThan(50)
  })
})

describe('many logins at once', () => {
  it('are refused with CONNACK 3 past the cap on pending logins, at once, and the service keeps serving', async () => {
    // Failures held for a minute: none is answered while the flood arrives, however slow the machine.
    const jammed = await startTestService({
      site,
      env: { MQTT_AUTH_FAILURE_DELAY: '60s', MQTT_AUTH_PENDING_MAX: '100' },
    })
    const logins = Array.from({ length: 300 }, (_, i) =>
      heldLogin(jammed.mqttPort, `flood-${i}`, `127.0.3.${(i % 30) + 1}`),
    )
    try {
      await waitFor(() => logins.filter((l) => l.code() === 3).length === 200, {
        what: '200 logins refused as busy',
        timeoutMs: 20_000,
      })
      expect(logins.filter((l) => l.code() === undefined)).toHaveLength(100)
      expect((await fetch(`${jammed.publicUrl}/healthz`)).status).toBe(200)
      // The held ones hang up: their places are free again, and a device logs in.
      for (const login of logins) login.socket.destroy()
      await waitFor(async () => (await good(jammed, 'door-12')).code === 0, { what: 'a login once freed' })
    } finally {
      for (const login of logins) login.socket.destroy()
      await jammed.close()
    }
  })
})

describe('honest devices behind the same address as a guesser', () => {
  it('log in at once, before any failure of that address is answered', async () => {
    const failures = await Promise.all(
      Array.from({ length: 12 }, (_, i) => wrong(slow, `guess-${i}`, '127.0.0.6')),
    )
    expect(failures.every((f) => f.code === 4)).toBe(true)
    // Twelve failures just answered from 127.0.0.6; an honest device from there is neither slowed nor queued.
    const pendingFailure = wrong(slow, 'guess-late', '127.0.0.6')
    const honest = await good(slow, 'door-5', '127.0.0.6')
    expect(honest.code).toBe(0)
    const late = await pendingFailure
    expect(late.code).toBe(4)
    expect(honest.ms).toBeLessThan(late.ms)
    expect(honest.ms).toBeLessThan(3000)
  })
})
