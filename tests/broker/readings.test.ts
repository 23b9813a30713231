import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrokerHarness, startBrokerHarness } from '../support/broker-harness.ts'
import { waitFor } from '../support/wait-for.ts'

let harness: BrokerHarness
beforeAll(async () => {
  harness = await startBrokerHarness()
})
afterAll(() => harness.close())

const asDevice = (id: string) => harness.connect({ username: id, password: `secret-${id}` })

describe('readings', () => {
  it('are in the log by the time the QoS 1 PUBACK arrives', async () => {
    const client = await asDevice('aed-1')
    for (let seq = 1; seq <= 20; seq++) {
      await client.publishAsync(
        'devices/aed-1/telemetry',
        JSON.stringify({ type: 'aed', present: true, cabinetOpen: false, seq }),
        { qos: 1 },
      )
      // No waiting: the acknowledgement itself is the promise that the reading is stored.
      expect((await harness.ingest.readings.recent('aed-1', 1))[0]?.seq).toBe(seq)
    }
  })

  it('keep the device order, the payload fields and a normalised ts', async () => {
    const client = await asDevice('temp-1')
    const ts = Date.UTC(2026, 10, 22, 8, 0, 0)
    await client.publishAsync(
      'devices/temp-1/telemetry',
      JSON.stringify({ type: 'temperature', celsius: 21.5, ts }),
      { qos: 1 },
    )
    await client.publishAsync(
      'devices/temp-1/telemetry',
      JSON.stringify({ type: 'heartbeat', battery: 87 }),
      { qos: 1 },
    )
    const [latest, previous] = await harness.ingest.readings.recent('temp-1', 2)
    expect(previous).toEqual({
      device: 'temp-1',
      type: 'temperature',
      celsius: 21.5,
      ts: '2026-11-22T08:00:00.000Z',
    })
    expect(latest).toMatchObject({ device: 'temp-1', type: 'heartbeat', battery: 87 })
    expect(Date.parse(latest?.ts ?? '')).toBeGreaterThan(ts)
  })

  it('are kept once per device and seq, even when sent again', async () => {
    const client = await asDevice('door-1')
    const reading = JSON.stringify({ type: 'door', open: true, badge: 'b-17', seq: 4242 })
    await client.publishAsync('devices/door-1/telemetry', reading, { qos: 1 })
    await client.publishAsync('devices/door-1/telemetry', reading, { qos: 1 })
    await client.publishAsync(
      'devices/door-1/telemetry',
      JSON.stringify({ type: 'door', open: false, seq: 4243 }),
      { qos: 1 },
    )
    const seqs = (await harness.ingest.readings.recent('door-1', 10)).map((r) => r.seq)
    expect(seqs.filter((seq) => seq === 4242)).toHaveLength(1)
    expect(seqs.slice(0, 2)).toEqual([4243, 4242])
  })

  it('from a bridge account are stored under the device the topic names', async () => {
    const bridge = await harness.connect({ username: 'operator', password: 'operator-password' })
    await bridge.publishAsync('devices/aed-1/telemetry', JSON.stringify({ type: 'heartbeat', battery: 55 }), {
      qos: 1,
    })
    expect((await harness.ingest.readings.recent('aed-1', 1))[0]).toMatchObject({
      device: 'aed-1',
      type: 'heartbeat',
      battery: 55,
    })
  })
})

describe('bad input', () => {
  const cases = [
    { payload: 'not json at all', reason: /^not JSON: / },
    { payload: JSON.stringify({ type: 'temperature' }), reason: /^celsius: required \(number\)$/ },
    {
      payload: JSON.stringify({ type: 'temperature', celsius: 900 }),
      reason: /^celsius: Too big: expected number to be <=150; got 900$/,
    },
    {
      payload: JSON.stringify({ type: 'door', open: true }),
      reason: /^type: a temperature device does not send "door" readings$/,
    },
    { payload: JSON.stringify({ type: 'smoke', level: 3 }), reason: /^type: / },
    {
      payload: JSON.stringify({ type: 'temperature', celsius: 20, colour: 'red' }),
      reason: /^colour: unknown key$/,
    },
    { payload: JSON.stringify({ type: 'temperature', celsius: 20, ts: 'yesterday' }), reason: /^ts: / },
    {
      payload: JSON.stringify({ type: 'temperature', celsius: 20, ts: 8e15 }),
      reason: /^ts: .* is not a plausible time/,
    },
  ]

  it('lands in dead letters with its reason, counted, and the device stays connected', async () => {
    const client = await asDevice('temp-1')
    for (const { payload } of cases)
      await client.publishAsync('devices/temp-1/telemetry', payload, { qos: 1 })
    expect(client.connected).toBe(true)
    await client.publishAsync(
      'devices/temp-1/telemetry',
      JSON.stringify({ type: 'temperature', celsius: 19 }),
      { qos: 1 },
    )
    expect((await harness.ingest.readings.recent('temp-1', 1))[0]).toMatchObject({ celsius: 19 })

    const letters = (await harness.ingest.deadLetters.list({ device: 'temp-1', limit: 100 })).reverse()
    expect(letters).toHaveLength(cases.length)
    letters.forEach((letter, i) => {
      expect(letter).toMatchObject({
        device: 'temp-1',
        topic: 'devices/temp-1/telemetry',
        payload: cases[i]?.payload,
      })
      expect(letter.reason).toMatch(cases[i]?.reason ?? /never/)
    })
    expect(await harness.ingest.deadLetters.count('temp-1')).toBe(cases.length)
  })

  it('keeps at most 1 KiB of a bad payload', async () => {
    const client = await asDevice('aed-1')
    await client.publishAsync('devices/aed-1/telemetry', 'x'.repeat(5000), { qos: 1 })
    const [letter] = await harness.ingest.deadLetters.list({ device: 'aed-1', limit: 1 })
    expect(letter?.payload).toHaveLength(1024)
  })
})

describe('online and offline', () => {
  it('follow the connection, the status topic and the last will', async () => {
    const will = {
      topic: 'devices/door-1/status',
      payload: Buffer.from('offline'),
      qos: 1 as const,
      retain: false,
    }
    const client = await harness.connect({ username: 'door-1', password: 'secret-door-1', will })
    await waitFor(async () => (await harness.ingest.states.get('door-1')).online, { what: 'online' })

    await client.publishAsync('devices/door-1/status', 'offline', { qos: 1 })
    expect((await harness.ingest.states.get('door-1')).online).toBe(false)
    await client.publishAsync('devices/door-1/status', 'online', { qos: 1 })
    expect((await harness.ingest.states.get('door-1')).online).toBe(true)

    // An abrupt loss: no DISCONNECT, so the broker publishes the will.
    client.stream.destroy()
    await waitFor(async () => !(await harness.ingest.states.get('door-1')).online, { what: 'offline' })
    const state = await harness.ingest.states.get('door-1')
    expect(state.statusAt).not.toBeNull()
    expect(state.lastSeen).not.toBeNull()
  })
})
