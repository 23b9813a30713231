import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'

export type TwilioRequest = {
  method: string
  path: string
  /** The form fields the SDK posted (To, From, Body, Twiml, StatusCallback, …). */
  form: Record<string, string>
  authorization: string | undefined
  /** The status this server answered with, and the sid of the message or call it accepted. */
  status: number
  sid: string | null
  at: number
}

export type ScriptedAnswer = { status: number; headers?: Record<string, string>; body?: unknown }

/**
 * A Twilio-compatible API on a free port: it receives the twilio SDK's real HTTP requests (TWILIO_API_URL
 * points here), answers messages and calls like Twilio, and can be told to fail first.
 */
export async function startTwilioServer() {
  const requests: TwilioRequest[] = []
  const script: ScriptedAnswer[] = []
  const readForm = async (request: IncomingMessage) => {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))
  }
  const server = createServer(async (request, response) => {
    const form = await readForm(request)
    const path = new URL(request.url ?? '/', 'http://localhost').pathname
    const scripted = script.shift()
    const kind = path.endsWith('/Calls.json') ? 'CA' : 'SM'
    const sid = `${kind}${randomBytes(16).toString('hex')}`
    const answer = scripted ?? {
      status: 201,
      body: { sid, status: 'queued', to: form.To, from: form.From, body: form.Body ?? null },
    }
    requests.push({
      method: request.method ?? '',
      path,
      form,
      authorization: request.headers.authorization,
      status: answer.status,
      sid: scripted ? null : sid,
      at: Date.now(),
    })
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
    response.end(
      JSON.stringify(answer.body ?? { code: 20_500, message: 'scripted failure', status: answer.status }),
    )
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** Answers the next requests with these, in order, then like Twilio again. */
    failNext: (...answers: ScriptedAnswer[]) => {
      script.push(...answers)
    },
    /** Messages and calls this server accepted (answered 201). */
    accepted: () => requests.filter((r) => r.status === 201),
    close: async () => {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

export type TwilioServer = Awaited<ReturnType<typeof startTwilioServer>>
