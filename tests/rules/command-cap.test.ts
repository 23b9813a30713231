// Issue 19: a device keeps at most DEVICE_COMMANDS_KEPT command records; a new one removes the oldest
// finished ones in its own write, never a queued or sent one, and the indexes follow.
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../config/index.ts'
import { ruleKeys } from '../../rules/index.ts'
import { createManualClock } from '../support/manual-clock.ts'
import { openTestRedis } from '../support/redis.ts'
import { writeTempFile } from '../support/temp-files.ts'
import { startTestService, type TestService } from '../support/test-service.ts'
import { waitFor } from '../support/wait-for.ts'

const siteFile = `
sites: [{ id: s1, name: Site, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices: [{ id: door-1, kind: door, site: s1, secret: "secret-door-1" }]
commands: { door: { buzzer: } }
`
type Command = { id: string; status: string }

const clock = createManualClock()
let vigie: TestService
let redis: Redis

beforeAll(async () => {
  vigie = await startTestService({ site: siteFile, clock, env: { DEVICE_COMMANDS_KEPT: '3' } })
  ;({ redis } = await openTestRedis())
})
afterAll(async () => {
  await redis?.quit()
  await vigie?.close()
})

/** Sends a buzzer with this ttl (seconds), a second after the last one so that creation times differ. */
async function send(ttl: number): Promise<string> {
  clock.advance(1000)
  return (
    await vigie.api<Command>('/api/devices/door-1/commands', {
      method: 'POST',
      body: { name: 'buzzer', ttl },
    })
  ).id
}
const listed = async () =>
  (await vigie.api<{ items: Command[] }>('/api/devices/door-1/commands?limit=50')).items.map((c) => c.id)

/** What Redis holds for the device: its index, its finished index, the expiry index, and which documents exist. */
async function stored(ids: string[]) {
  const keys = ruleKeys(vigie.prefix)
  const present = await Promise.all(
    ids.map(async (id) => ((await redis.exists(keys.command(id))) ? id : null)),
  )
  return {
    index: await redis.zrevrange(keys.commandsOf('door-1'), 0, -1),
    finished: await redis.zrange(keys.commandsFinishedOf('door-1'), 0, -1),
    expiries: (await redis.zrange(keys.commandExpiries, 0, -1)).sort(),
    documents: present.filter((id): id is string => id !== null),
  }
}

const allExpired = (ids: string[]) =>
  waitFor(
    async () => {
      const { items } = await vigie.api<{ items: Command[] }>('/api/devices/door-1/commands?limit=50')
      return ids.every((id) => items.find((c) => c.id === id)?.status === 'expired')
    },
    { what: `${ids.length} commands expired` },
  )

describe('DEVICE_COMMANDS_KEPT', () => {
  it('trims the oldest finished commands when a new one is written, never a pending one', async () => {
    const a = await send(3600)
    const b = await send(1)
    const c = await send(1)
    clock.advance(2000)
    await allExpired([b, c])
    expect(await listed()).toEqual([c, b, a])

    // Four past a cap of three: the oldest finished (b) goes, the older pending one (a) stays.
    const d = await send(3600)
    expect(await listed()).toEqual([d, c, a])
    expect(await stored([a, b, c, d])).toEqual({
      index: [d, c, a],
      finished: [c],
      expiries: [a, d].sort(),
      documents: [a, c, d],
    })
    const e = await send(3600)
    expect(await listed()).toEqual([e, d, a])

    // Nothing finished is left: the device holds four, over the cap, rather than lose a pending command.
    const f = await send(3600)
    expect(await listed()).toEqual([f, e, d, a])
    expect((await stored([])).finished).toEqual([])

    // Once they finish, the next command brings the device back to the cap, oldest first.
    clock.advance(3_601_000)
    await allExpired([a, d, e, f])
    const g = await send(3600)
    expect(await listed()).toEqual([g, f, e])
    expect(await stored([a, b, c, d, e, f, g])).toEqual({
      index: [g, f, e],
      finished: [e, f],
      expiries: [g],
      documents: [e, f, g],
    })
  })

  it('refuses a cap below one, or not a number, naming the setting', () => {
    const site = writeTempFile('site.yaml', siteFile)
    for (const value of ['0', '-5', 'many', '1.5']) {
      try {
        loadConfig({ env: { VIGIE_CONFIG: site, DEVICE_COMMANDS_KEPT: value } })
        throw new Error(`DEVICE_COMMANDS_KEPT=${value} was taken`)
      } catch (error) {
        expect(error, value).toBeInstanceOf(ConfigError)
        expect(String((error as Error).message)).toContain('DEVICE_COMMANDS_KEPT')
      }
    }
    expect(loadConfig({ env: { VIGIE_CONFIG: site } }).settings.deviceCommandsKept).toBe(200)
  })
})
