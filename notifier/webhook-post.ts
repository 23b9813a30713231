import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { performance } from 'node:perf_hooks'

/** What one POST to a receiver came to: its status (null when none came) and how long it took. */
export type WebhookAnswer = {
  status: number | null
  /** The receiver's `Retry-After`, as sent. */
  retryAfter: string | undefined
  error: string | null
  latencyMs: number
}

// A receiver's answer is not ours to keep: this much is read, the rest dropped with the connection.
const answerCap = 4096

/**
 * POSTs one body with its headers. No redirect is followed (a 3xx is a failure like any other non-2xx),
 * the whole exchange has a deadline, and the answer's body is read no further than a few kB.
 */
export function postWebhook({
  url,
  body,
  headers,
  timeoutMs,
}: {
  url: string
  body: string
  headers: Record<string, string>
  timeoutMs: number
}): Promise<WebhookAnswer> {
  const started = performance.now()
  const latency = () => Math.round(performance.now() - started)
  return new Promise((resolve) => {
    let settled = false
    const settle = (answer: Omit<WebhookAnswer, 'latencyMs'>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve({ ...answer, latencyMs: latency() })
    }
    const target = new URL(url)
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest
    const req = send(target, {
      method: 'POST',
      headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
      // A pooled socket a receiver closed would fail a send that never left.
      agent: false,
    })
    const timer = setTimeout(() => {
      req.destroy()
      settle({ status: null, retryAfter: undefined, error: `no answer within ${timeoutMs} ms` })
    }, timeoutMs)
    req.on('error', (error) => settle({ status: null, retryAfter: undefined, error: error.message }))
    req.on('response', (res: IncomingMessage) => {
      const retryAfter = res.headers['retry-after']
      let read = 0
      const done = () => {
        res.destroy()
        settle({ status: res.statusCode ?? null, retryAfter, error: null })
      }
      res.on('data', (chunk: Buffer) => {
        read += chunk.length
        if (read >= answerCap) done()
      })
      res.on('end', done)
      res.on('error', done)
    })
    req.end(body)
  })
}
