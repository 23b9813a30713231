import { once } from 'node:events'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BrokerHarness, startBrokerHarness } from '../support/broker-harness.ts'
import { rawConnected } from '../support/raw-mqtt.ts'
import { waitFor } from '../support/wait-for.ts'

// vigie is also a general MQTT 3.1.1 broker for service accounts (issue 3).
let harness: BrokerHarness
beforeAll(async () => {
  harness = await startBrokerHarness()
})
afterAll(() => harness.close())

const operator = (options: { clientId?: string; clean?: boolean } = {}) =>
  harness.connect({ username: 'operator', password: 'operator-password', ...options })

function collect(client: MqttClient): { topic: string; payload: string; retain: boolean }[] {
  const seen: { topic: string; payload: string; retain: boolean }[] = []
  client.on('message', (topic, payload, packet) =>
    seen.push({ topic, payload: payload.toString(), retain: packet.retain }),
  )
  return seen
}

describe('a general MQTT broker', () => {
  it('keeps a retained message for later subscribers', async () => {
    await (await operator()).publishAsync('integrations/retained/state', 'on', { qos: 1, retain: true })
    const late = await operator()
    const seen = collect(late)
    await late.subscribeAsync('integrations/retained/#', { qos: 1 })
    await waitFor(() => seen.length === 1, { what: 'the retained message' })
    expect(seen[0]).toEqual({ topic: 'integrations/retained/state', payload: 'on', retain: true })
  })

  it('queues QoS 1 and 2 messages for a persistent session while it is away', async () => {
    const away = await operator({ clientId: 'persistent-1', clean: false })
    await away.subscribeAsync('integrations/queued/#', { qos: 2 })
    await away.endAsync()
    const sender = await operator()
    await sender.publishAsync('integrations/queued/a', 'one', { qos: 1 })
    await sender.publishAsync('integrations/queued/b', 'two', { qos: 2 })
    await sender.publishAsync('integrations/queued/c', 'lost', { qos: 0 })

    // Listening from the first byte: the queued messages follow the CONNACK at once.
    const back = mqtt.connect({
      host: '127.0.0.1',
      port: harness.port,
      username: 'operator',
      password: 'operator-password',
      clientId: 'persistent-1',
      clean: false,
      reconnectPeriod: 0,
    })
    const seen = collect(back)
    await waitFor(() => seen.length >= 2, { what: 'the queued messages' })
    expect(seen.map((m) => m.payload)).toEqual(['one', 'two'])
    await back.endAsync()
  })

  it('delivers once per client for overlapping subscriptions, and nothing after unsubscribe', async () => {
    const client = await operator()
    const seen = collect(client)
    await client.subscribeAsync(['integrations/overlap/#', 'integrations/overlap/+'], { qos: 1 })
    const sender = await operator()
    await sender.publishAsync('integrations/overlap/x', '1', { qos: 1 })
    await waitFor(() => seen.length >= 1, { what: 'the message' })
    await client.unsubscribeAsync(['integrations/overlap/#', 'integrations/overlap/+'])
    await client.subscribeAsync('integrations/marker-unsub', { qos: 1 })
    await sender.publishAsync('integrations/overlap/x', '2', { qos: 1 })
    // Same publisher, so once its later marker arrives the unsubscribed message would have too.
    await sender.publishAsync('integrations/marker-unsub', 'm', { qos: 1 })
    await waitFor(() => seen.some((m) => m.payload === 'm'), { what: 'the marker' })
    expect(seen.map((m) => m.payload)).toEqual(['1', 'm'])
  })

  it('publishes the will of a client that vanishes', async () => {
    const watcher = await operator()
    const seen = collect(watcher)
    await watcher.subscribeAsync('integrations/wills/#', { qos: 1 })
    const doomed = await harness.connect({
      username: 'operator',
      password: 'operator-password',
      will: { topic: 'integrations/wills/doomed', payload: Buffer.from('gone'), qos: 1, retain: false },
    })
    doomed.stream.destroy()
    await waitFor(() => seen.some((m) => m.topic === 'integrations/wills/doomed'), { what: 'the will' })
  })

  it('closes a client that misses its keepalive [MQTT-3.1.2-24]', async () => {
    // Connected, then silence: no PINGREQ ever.
    const socket = await rawConnected(harness.port, {
      clientId: 'quiet',
      username: 'operator',
      password: 'operator-password',
      keepalive: 1,
    })
    await once(socket, 'close')
    expect(socket.destroyed).toBe(true)
  })
})
