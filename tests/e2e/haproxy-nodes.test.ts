import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import { connect as connectTcp } from 'node:net'
import mqtt, { type MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Haproxy, type HaproxyBackend, startHaproxy } from '../support/haproxy.ts'
import { oneDoorSite } from '../support/one-door-site.ts'
import { answer, connectPacket } from '../support/proxy-header.ts'
import { timedLogin } from '../support/raw-mqtt.ts'
import { startVigieProcess, type VigieProcess } from '../support/vigie-process.ts'
import { waitFor } from '../support/wait-for.ts'

const adminKey = 'haproxy-test-admin-key-0123456'

type Reading = { type: string; open?: boolean; seq?: number }

/**
 * Issue 17: devices reach two vigie nodes (broker and api roles, one Redis) through a real HAProxy in TCP mode
 * that sends the PROXY protocol and health-checks each node's /readyz.
 */
describe('two vigie nodes behind HAProxy', () => {
  const nodes: VigieProcess[] = []
  const backends: HaproxyBackend[] = []
  const proxies: Haproxy[] = []
  let proxy: Haproxy
  const clients: MqttClient[] = []

  beforeAll(async () => {
    const env = {
      VIGIE_ROLES: 'broker,api',
      REDIS_PREFIX: `test:${randomUUID()}:`,
      MQTT_PROXY_PROTOCOL: 'on',
      VIGIE_ADMIN_KEY: adminKey,
      MQTT_AUTH_FAILURE_DELAY: '100ms',
    }
    // One after the other: the first seeds the site in the Redis both share.
    for (const name of ['node0', 'node1']) {
      const node = await startVigieProcess({ site: oneDoorSite, env })
      nodes.push(node)
      backends.push({ name, mqttPort: node.mqttPort, httpPort: Number(new URL(node.httpUrl).port) })
    }
    proxy = await startHaproxy({ backends, proxyProtocol: 'v2' })
    proxies.push(proxy)
    await Promise.all(backends.map(({ name }) => proxy.waitForState(name, 'UP')))
  }, 120_000)

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)))
    await Promise.all(proxies.map((each) => each.stop()))
    for (const node of nodes) if (node.pid) process.kill(node.pid, 'SIGCONT')
    await Promise.all(nodes.map((node) => node.stop()))
  })

  const connectDevice = async () => {
    const client = await mqtt.connectAsync({
      host: '127.0.0.1',
      port: proxy.port,
      clientId: 'door-1',
      username: 'door-1',
      password: 'secret-door-1',
      reconnectPeriod: 0,
    })
    clients.push(client)
    return client
  }
  const readingsOn = async (node: VigieProcess): Promise<Reading[]> => {
    const res = await fetch(`${node.httpUrl}/api/devices/door-1/readings?limit=20`, {
      headers: { authorization: `Bearer ${adminKey}` },
    })
    if (!res.ok) throw new Error(`readings: ${res.status}`)
    return ((await res.json()) as { items: Reading[] }).items
  }
  /** The node the device's one connection reached: the one whose broker counts a client. */
  const nodeHolding = () =>
    waitFor(
      async () => {
        const counts = await Promise.all(nodes.map((node) => node.metric('vigie_mqtt_clients')))
        return counts.filter((count) => count === 1).length === 1 ? counts.indexOf(1) : undefined
      },
      { what: 'one node holding the device' },
    )

  it('stores a reading a device publishes through HAProxy, readable from either node', async () => {
    const device = await connectDevice()
    await device.publishAsync(
      'devices/door-1/telemetry',
      JSON.stringify({ type: 'door', open: false, seq: 1 }),
      {
        qos: 1,
      },
    )
    const holder = await nodeHolding()
    for (const node of nodes) expect((await readingsOn(node)).map((reading) => reading.seq)).toContain(1)
    await device.endAsync()
    await waitFor(async () => (await nodes[holder]?.metric('vigie_mqtt_clients')) === 0, {
      what: 'the device gone',
    })
  })

  it("logs a failed login through HAProxy with the device's address from the v2 header, and from a v1 one", async () => {
    const v1Proxy = await startHaproxy({ backends, proxyProtocol: 'v1' })
    proxies.push(v1Proxy)
    await Promise.all(backends.map(({ name }) => v1Proxy.waitForState(name, 'UP')))
    for (const [port, address, username] of [
      [proxy.port, '127.0.0.7', 'ghost-7'],
      [v1Proxy.port, '127.0.0.8', 'ghost-8'],
    ] as const) {
      const login = await timedLogin(port, {
        clientId: username,
        username,
        password: 'a-guess',
        localAddress: address,
      })
      expect(login.code).toBe(4)
      const refusals = nodes
        .flatMap((node) => node.process.output().split('\n'))
        .filter(
          (line) => line.includes('"msg":"mqtt login refused"') && line.includes(`"username":"${username}"`),
        )
      // HAProxy itself connects from 127.0.0.1: the node logged the address the header carried.
      expect(refusals).toHaveLength(1)
      expect(refusals[0]).toContain(`"address":"${address}"`)
    }
  })

  it('closes, counts and logs a connection made straight to a node without a PROXY header', async () => {
    const node = nodes[1] as VigieProcess
    const socket = connectTcp({ port: node.mqttPort, host: '127.0.0.1' })
    socket.on('error', () => {})
    await once(socket, 'connect')
    const code = answer(socket)
    socket.write(connectPacket('door-1', 'secret-door-1'))
    expect(await code).toBe('closed')
    expect(await node.metric('vigie_mqtt_proxy_header_refused_total')).toBe(1)
    await node.process.waitForLine(
      /"reason":"no PROXY protocol header".*"msg":"mqtt connection closed: no valid PROXY protocol header"/,
    )
  })

  it('takes a node whose /readyz stops answering out, and a device reconnecting lands on the other', async () => {
    const first = await connectDevice()
    const holder = await nodeHolding()
    const frozen = nodes[holder] as VigieProcess
    const other = nodes[1 - holder] as VigieProcess
    const frozenName = backends[holder]?.name ?? ''
    // SIGSTOP: the node's MQTT port still completes TCP handshakes; only the health check tells it is gone.
    process.kill(frozen.pid, 'SIGSTOP')
    try {
      await proxy.waitForState(frozenName, 'DOWN')
      first.end(true)
      const again = await connectDevice()
      await again.publishAsync(
        'devices/door-1/telemetry',
        JSON.stringify({ type: 'door', open: true, seq: 2 }),
        {
          qos: 1,
        },
      )
      expect(await other.metric('vigie_mqtt_clients')).toBe(1)
      expect((await readingsOn(other)).map((reading) => reading.seq)).toContain(2)
    } finally {
      process.kill(frozen.pid, 'SIGCONT')
    }
    // Answering again, it is put back.
    await proxy.waitForState(frozenName, 'UP')
  })
})
