import { createServer } from 'node:net'

// Below Linux's ephemeral range (32768–60999), where the kernel also picks the local ports of outgoing
// connections: a port found free there can be taken by a client before the child server binds it.
const first = 20_000
const span = 12_000
// Each process walks its own stretch of the range, so two test workers rarely try the same port.
let next = (process.pid * 211) % span

/** A TCP port free on loopback right now (for a child server that cannot listen on port 0 itself). */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = first + (next++ % span)
    if (await bindable(port, host)) return port
  }
  // A crowded range: the kernel's choice, as before.
  return listenOn(0, host)
}

async function bindable(port: number, host: string): Promise<boolean> {
  return listenOn(port, host).then(
    () => true,
    () => false,
  )
}

function listenOn(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address()
      const bound = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(bound))
    })
  })
}
