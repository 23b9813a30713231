import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type ListedMessage, twilioMessageList } from '../../demo/index.ts'

export type TwilioRequest = {
  method: string
  path: string
  /** The form fields the SDK posted (To, From, Body, Twiml, StatusCallback, …). */
  form: Record<string, string>
  /** The query of a GET (To, From, DateSent>, PageSize, …). */
  query: Record<string, string>
  authorization: string | undefined
  /** The status this server answered with, and the sid of the message or call it accepted. */
  status: number
  sid: string | null
  at: number
}

export type ScriptedAnswer = { status: number; headers?: Record<string, string>; body?: unknown }

const mixedPair: ScriptedAnswer = {
  status: 400,
  body: { code: 21_910, message: 'Invalid From and To pair', status: 400 },
}

/**
 * A Twilio-compatible API on a free port: it receives the twilio SDK's real HTTP requests (TWILIO_API_URL
 * points here), answers messages and calls like Twilio, lists the messages it accepted, and can be told to
 * fail first or to accept and hold its answers.
 */
export async function startTwilioServer() {
  const requests: TwilioRequest[] = []
  const script: ScriptedAnswer[] = []
  const listed: ListedMessage[] = []
  const held: (() => void)[] = []
  let holding = false
  const readForm = async (request: IncomingMessage) => {
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))
  }
  const server = createServer(async (request, response) => {
    const form = await readForm(request)
    const url = new URL(request.url ?? '/', 'http://localhost')
    const path = url.pathname
    const listing = request.method === 'GET' && path.endsWith('/Messages.json')
    // Twilio refuses a message whose ends are not on one channel (a whatsapp: address and a bare number).
    const mixed = !listing && /^whatsapp:/.test(form.To ?? '') !== /^whatsapp:/.test(form.From ?? '')
    const scripted = mixed ? mixedPair : script.shift()
    const kind = path.endsWith('/Calls.json') ? 'CA' : 'SM'
    const sid = `${kind}${randomBytes(16).toString('hex')}`
    const at = Date.now()
    const answer: ScriptedAnswer = scripted ?? {
      status: listing ? 200 : 201,
      body: listing
        ? twilioMessageList({
            path,
            query: url.searchParams,
            messages: listed,
            accountSid: /\/Accounts\/([^/]+)\//.exec(path)?.[1] ?? '',
          })
        : { sid, status: 'queued', to: form.To, from: form.From, body: form.Body ?? null },
    }
    const accepted = !scripted && !listing
    requests.push({
      method: request.method ?? '',
      path,
      form,
      query: Object.fromEntries(url.searchParams),
      authorization: request.headers.authorization,
      status: answer.status,
      sid: accepted ? sid : null,
      at,
    })
    if (accepted && kind === 'SM')
      listed.push({ sid, to: form.To ?? '', from: form.From ?? '', body: form.Body ?? '', at })
    const respond = () => {
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
      response.end(
        JSON.stringify(answer.body ?? { code: 20_500, message: 'scripted failure', status: answer.status }),
      )
    }
    // Accepted, and the answer kept back: what a node killed mid-send never read.
    if (accepted && holding) held.push(respond)
    else respond()
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
    /** From now on, messages and calls are accepted (and listed) but their answers wait for release. */
    holdAnswers: () => {
      holding = true
    },
    /** Sends the answers held and answers at once again. */
    releaseAnswers: () => {
      holding = false
      for (const respond of held.splice(0)) respond()
    },
    /** Messages and calls this server accepted (answered 201, or holding that answer). */
    accepted: () => requests.filter((r) => r.status === 201),
    /** The message list lookups it answered. */
    lookups: () => requests.filter((r) => r.method === 'GET'),
    close: async () => {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

export type TwilioServer = Awaited<ReturnType<typeof startTwilioServer>>
