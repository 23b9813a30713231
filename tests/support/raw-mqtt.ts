import { once } from 'node:events'
import { connect as connectTcp, type Socket } from 'node:net'
import mqttPacket from 'mqtt-packet'

/** An MQTT 3.1.1 CONNECT with a clean session, as bytes. */
const connectBytes = ({
  clientId,
  username,
  password,
  keepalive = 30,
}: {
  clientId: string
  username: string
  password: string
  keepalive?: number
}) =>
  mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive,
    clientId,
    username,
    password: Buffer.from(password),
  })

/** A bare TCP connection that has sent one CONNECT and read its CONNACK, for tests below the client library. */
export async function rawConnected(
  port: number,
  {
    clientId,
    username,
    password,
    keepalive = 30,
  }: { clientId: string; username: string; password: string; keepalive?: number },
): Promise<Socket> {
  const socket = connectTcp(port, '127.0.0.1')
  await once(socket, 'connect')
  socket.write(connectBytes({ clientId, username, password, keepalive }))
  await once(socket, 'data')
  return socket
}

/** One login over a bare socket (from `localAddress`, any of 127/8): its CONNACK code and ms from CONNECT to CONNACK. */
export function timedLogin(
  port: number,
  {
    clientId,
    username,
    password,
    localAddress = '127.0.0.1',
  }: { clientId: string; username: string; password: string; localAddress?: string },
): Promise<{ code: number; ms: number }> {
  return new Promise((resolve, reject) => {
    let started = 0
    const socket = connectTcp({ port, host: '127.0.0.1', localAddress })
    const parser = mqttPacket.parser()
    parser.on('packet', (reply) => {
      socket.destroy()
      if (reply.cmd === 'connack') resolve({ code: reply.returnCode ?? -1, ms: performance.now() - started })
      else reject(new Error(`unexpected ${reply.cmd}`))
    })
    socket.on('data', (chunk) => parser.parse(chunk))
    socket.on('error', reject)
    socket.on('close', () => reject(new Error('closed without a CONNACK')))
    started = performance.now()
    socket.write(connectBytes({ clientId, username, password }))
  })
}

/** A wrong login over a bare socket, kept open: its CONNACK code once one came, and the socket to hang up. */
export function heldLogin(
  port: number,
  username: string,
  localAddress = '127.0.0.1',
): { socket: Socket; code: () => number | undefined } {
  let code: number | undefined
  const socket = connectTcp({ port, host: '127.0.0.1', localAddress })
  const parser = mqttPacket.parser()
  parser.on('packet', (reply) => {
    if (reply.cmd === 'connack') code = reply.returnCode ?? -1
  })
  socket.on('data', (chunk) => parser.parse(chunk))
  socket.on('error', () => {})
  socket.write(connectBytes({ clientId: username, username, password: 'a-guess' }))
  return { socket, code: () => code }
}
