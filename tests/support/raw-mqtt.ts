import { once } from 'node:events'
import { connect as connectTcp, type Socket } from 'node:net'
import mqttPacket from 'mqtt-packet'

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
  const connect = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, keepalive } as const
  socket.write(mqttPacket.generate({ ...connect, clientId, username, password: Buffer.from(password) }))
  await once(socket, 'data')
  return socket
}
