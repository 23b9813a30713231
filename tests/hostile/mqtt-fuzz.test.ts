import { once } from 'node:events'
import { readdirSync } from 'node:fs'
import { connect } from 'node:net'
import mqtt from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectionScript, type Identity, seededRandom } from '../support/packet-fuzzer.ts'
import { startVigieProcess, type VigieProcess } from '../support/vigie-process.ts'
import { waitFor } from '../support/wait-for.ts'

const kinds = ['temperature', 'door', 'aed', 'heartbeat-only'] as const
const devices = Array.from({ length: 20 }, (_, i) => ({ id: `fz-${i + 1}`, kind: kinds[i % kinds.length] }))
const site = `
sites: [{ id: s1, name: Terminal 2, timezone: Europe/Paris, location: { lat: 49.0, lon: 2.57 } }]
devices:
${devices.map((d) => `  - { id: ${d.id}, kind: ${d.kind}, site: s1, secret: "secret-${d.id}" }`).join('\n')}
rules:
  - { id: hot, match: { kind: temperature }, condition: { field: celsius, above: 30 }, severity: minor }
mqttAccounts:
  - { username: fuzz-account, password: "fuzz-account-password", publish: ["fuzz/#", "devices/+/commands/#"], subscribe: ["#"] }
`
const identities: Identity[] = [
  ...devices.map((d) => ({
    username: d.id,
    password: `secret-${d.id}`,
    clientId: d.id,
    topics: [`devices/${d.id}/telemetry`, `devices/${d.id}/status`, `devices/${d.id}/commands/x`],
  })),
  {
    username: 'fuzz-account',
    password: 'fuzz-account-password',
    clientId: 'fuzz-client',
    topics: ['fuzz/a', 'devices/fz-1/commands/open'],
  },
  { username: 'fz-1', password: 'a-wrong-secret', clientId: 'fz-1', topics: ['devices/fz-1/telemetry'] },
]
const seed = Number(process.env.FUZZ_SEED ?? 20261201)
const target = 100_000

let vigie: VigieProcess
beforeAll(async () => {
  // Refusals answered at once: the fuzz is about what the parser and the broker survive, not about timing.
  vigie = await startVigieProcess({
    site,
    env: { MQTT_AUTH_FAILURE_DELAY: '0s', RATE_LIMIT_HEAVY: '100000' },
  })
})
afterAll(async () => {
  await vigie?.stop()
})

const openFiles = (pid: number) => readdirSync(`/proc/${pid}/fd`).length

/** Writes one connection's packets, ends it, and resolves once the broker closed it too. */
async function feed(port: number, packets: Buffer[]): Promise<void> {
  const socket = connect({ port, host: '127.0.0.1' })
  socket.on('error', () => {})
  socket.resume() // whatever the broker answers is read and dropped
  const closed = once(socket, 'close')
  socket.end(Buffer.concat(packets))
  await closed
}

describe('the MQTT listener, fed a seeded stream of random and broken packets', () => {
  it(`takes ${target.toLocaleString('en-US')} of them without crashing or keeping anything`, async () => {
    const random = seededRandom(seed)
    const rssBefore = vigie.rssBytes()
    const filesBefore = openFiles(vigie.pid)
    const deadline = Date.now() + 150_000
    let sent = 0
    let connections = 0
    await Promise.all(
      Array.from({ length: 40 }, async () => {
        while (sent < target && Date.now() < deadline) {
          const packets = connectionScript(random, identities, 20 + random.int(40))
          sent += packets.length
          connections++
          await feed(vigie.mqttPort, packets)
        }
      }),
    )
    expect(sent).toBeGreaterThanOrEqual(target)

    // Everything it was given has ended: no client, no login, no message left behind.
    await waitFor(async () => (await vigie.metric('vigie_mqtt_clients')) === 0, { what: 'every client gone' })
    expect(await vigie.metric('vigie_mqtt_logins_pending')).toBe(0)
    expect(await vigie.metric('vigie_mqtt_backlog_messages')).toBe(0)
    const rssAfter = vigie.rssBytes()
    const filesAfter = openFiles(vigie.pid)
    console.info(
      `fuzz seed ${seed}: ${sent.toLocaleString('en-US')} packets over ${connections.toLocaleString('en-US')} connections; ` +
        `vigie RSS ${Math.round(rssBefore / 2 ** 20)} MB before, ${Math.round(rssAfter / 2 ** 20)} MB after; ` +
        `open files ${filesBefore} before, ${filesAfter} after`,
    )
    expect(vigie.process.child.exitCode).toBeNull()
    expect(filesAfter).toBeLessThanOrEqual(filesBefore + 5)
    expect(rssAfter - rssBefore).toBeLessThan(256 * 2 ** 20)

    // And it still serves: the API, and a device whose reading is acknowledged.
    expect((await fetch(`${vigie.httpUrl}/healthz`)).status).toBe(200)
    const device = await mqtt.connectAsync({
      host: '127.0.0.1',
      port: vigie.mqttPort,
      clientId: 'fz-2',
      username: 'fz-2',
      password: 'secret-fz-2',
      reconnectPeriod: 0,
    })
    await device.publishAsync('devices/fz-2/telemetry', '{"type":"door","open":false}', { qos: 1 })
    await device.endAsync()
  }, 200_000)
})
