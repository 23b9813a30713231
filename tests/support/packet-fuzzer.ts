import mqttPacket from 'mqtt-packet'

/** mulberry32: a small seeded generator, so a failing run is replayed byte for byte from its seed. */
export function seededRandom(seed: number) {
  let state = seed >>> 0
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
  return {
    next,
    int: (below: number) => Math.floor(next() * below),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    chance: (p: number) => next() < p,
    bytes: (length: number) => Buffer.from(Array.from({ length }, () => Math.floor(next() * 256))),
  }
}

export type Random = ReturnType<typeof seededRandom>
export type Identity = { username: string; password: string; clientId: string; topics: string[] }

const filters = [
  '#',
  '+/+',
  'devices/#',
  'devices/+/telemetry',
  '$SYS/#',
  'a/+/b/#',
  '',
  '/',
  '#/x',
  'devices/+/commands/#',
]

/** Something that may or may not be a reading: JSON of every shape, and bytes that are not JSON at all. */
function payload(random: Random): Buffer {
  switch (random.int(6)) {
    case 0:
      return Buffer.from(JSON.stringify({ type: 'temperature', celsius: random.next() * 2000 - 1000 }))
    case 1:
      return Buffer.from(
        JSON.stringify({
          type: random.pick(['door', 'aed', 'heartbeat', 'x']),
          open: true,
          ts: random.int(2 ** 31),
        }),
      )
    case 2:
      return Buffer.from(random.pick(['online', 'offline', '', '{}', '[]', 'null', '{"type":', '"\u0000"']))
    case 3:
      return Buffer.from(
        JSON.stringify({ seq: random.int(100), nested: { deep: [1, { a: 'b'.repeat(random.int(500)) }] } }),
      )
    default:
      return random.bytes(random.int(300))
  }
}

/** A well-formed packet of any type a client may send, aimed at this identity's topics or anywhere. */
function validPacket(random: Random, identity: Identity): Buffer {
  const topic = random.chance(0.7)
    ? random.pick(identity.topics)
    : random.pick(['x/y', '$SYS/z', 'devices/other/telemetry', 'a'.repeat(random.int(300) + 1)])
  const messageId = random.int(65_535) + 1
  switch (random.int(10)) {
    case 0:
    case 1:
    case 2: {
      const qos = random.int(3) as 0 | 1 | 2
      return mqttPacket.generate({
        cmd: 'publish',
        topic,
        payload: payload(random),
        qos,
        retain: random.chance(0.2),
        dup: false,
        ...(qos ? { messageId } : {}),
      })
    }
    case 3:
      return mqttPacket.generate({
        cmd: 'subscribe',
        messageId,
        subscriptions: [{ topic: random.pick(filters) || '#', qos: random.int(3) as 0 | 1 | 2 }],
      })
    case 4:
      return mqttPacket.generate({
        cmd: 'unsubscribe',
        messageId,
        unsubscriptions: [random.pick(filters) || '#'],
      })
    case 5:
      return mqttPacket.generate({ cmd: 'pingreq' })
    case 6:
      return mqttPacket.generate({ cmd: random.pick(['puback', 'pubrec', 'pubcomp'] as const), messageId })
    case 7:
      return mqttPacket.generate({ cmd: 'pubrel', messageId })
    case 8:
      return connectPacket(random, identity)
    default:
      return random.chance(0.1)
        ? mqttPacket.generate({ cmd: 'disconnect' })
        : mqttPacket.generate({ cmd: 'pingreq' })
  }
}

export function connectPacket(random: Random, identity: Identity): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: random.chance(0.9) ? 'MQTT' : 'MQIsdp',
    protocolVersion: random.chance(0.9) ? 4 : 3,
    clean: random.chance(0.8),
    keepalive: random.int(120),
    clientId: identity.clientId,
    username: identity.username,
    password: Buffer.from(identity.password),
    ...(random.chance(0.2)
      ? {
          will: {
            topic: random.pick(identity.topics),
            payload: Buffer.from('offline'),
            qos: random.int(2) as 0 | 1,
            retain: random.chance(0.3),
          },
        }
      : {}),
  })
}

/** A packet broken the ways a buggy device or an attacker breaks one: flipped, cut, stretched, or lying about its length. */
export function mutate(random: Random, packet: Buffer): Buffer {
  const copy = Buffer.from(packet)
  switch (random.int(6)) {
    case 0:
      for (let i = 0, n = random.int(4) + 1; i < n && copy.length > 0; i++)
        copy[random.int(copy.length)] = random.int(256)
      return copy
    case 1:
      return copy.subarray(0, random.int(copy.length))
    case 2:
      return Buffer.concat([copy, random.bytes(random.int(64))])
    case 3:
      // The remaining length says more (or less) than follows; up to a four-byte varint, or a fifth byte.
      if (copy.length > 1) copy[1] = random.int(256)
      return copy
    case 4:
      if (copy.length > 0) copy[0] = (random.int(16) << 4) | random.int(16)
      return copy
    default:
      return random.bytes(random.int(40) + 1)
  }
}

/** One connection's bytes: a CONNECT (good, broken or none) and then `count` packets, some of them broken. */
export function connectionScript(random: Random, identities: Identity[], count: number): Buffer[] {
  const identity = random.pick(identities)
  const opening = random.next()
  const packets: Buffer[] = []
  if (opening < 0.75) packets.push(connectPacket(random, identity))
  else if (opening < 0.9) packets.push(mutate(random, connectPacket(random, identity)))
  else packets.push(random.bytes(random.int(100) + 1))
  for (let i = 1; i < count; i++) {
    const packet = validPacket(random, identity)
    packets.push(random.chance(0.1) ? mutate(random, packet) : packet)
  }
  return packets
}
