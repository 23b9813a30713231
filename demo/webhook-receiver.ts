import { createHmac, timingSafeEqual } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * The demo's stand-in for a CRM (issue 18): a local HTTP server that checks each webhook's signature and
 * prints one line per event it gets, as README § Webhooks out shows a receiver doing.
 */
export async function startWebhookReceiver({
  secret,
  print,
}: {
  secret: string
  print: (line: string) => void
}) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const [, t = '', v1 = ''] =
        /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['x-vigie-signature'])) ?? []
      const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest()
      const valid = t !== '' && timingSafeEqual(expected, Buffer.from(v1, 'hex'))
      print(
        `webhook   ${req.headers['x-vigie-event']} (${String(req.headers['x-vigie-delivery']).slice(0, 8)})${valid ? '' : ' BAD SIGNATURE'}`,
      )
      res.writeHead(valid ? 204 : 401).end()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    secret,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/vigie`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
