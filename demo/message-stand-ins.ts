import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Logger } from 'pino'
import twilio from 'twilio'
import { createMailSink } from './mail-sink.ts'
import { type ListedMessage, twilioMessageList } from './twilio-message-list.ts'

/** One message a stand-in received from vigie: as it would have reached the phone or the mailbox. */
export type StandInMessage = {
  channel: 'sms' | 'voice' | 'email' | 'whatsapp'
  to: string
  /** The SMS text, the call's TwiML, or the mail's raw source. */
  body: string
  sid: string
  at: number
}

const readBody = async (request: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** What the stand-ins accepted since they started, by kind; `refused` counts requests they do not know. */
export type StandInCounts = { sms: number; calls: number; emails: number; refused: number }

// The newest SMS kept for vigie's "was it sent?" lookups, whatever keepMessages says.
const listedKept = 10_000

/**
 * What the demo (and the benchmarks) send through when no Twilio or SMTP is configured: a Twilio-compatible
 * API that the twilio SDK really calls (then reports delivery back, signed, as Twilio does) and a real SMTP
 * server. vigie itself is unchanged: it only gets TWILIO_API_URL and SMTP_URL pointing here.
 */
export async function startMessageStandIns({
  log,
  keepMessages = true,
  reportDelivery = true,
}: {
  log: Logger
  /** Off for a long benchmark: then only the counts are kept. */
  keepMessages?: boolean
  reportDelivery?: boolean
}) {
  const authToken = randomBytes(24).toString('hex')
  const accountSid = `AC${randomBytes(16).toString('hex')}`
  const messages: StandInMessage[] = []
  const counts: StandInCounts = { sms: 0, calls: 0, emails: 0, refused: 0 }
  const listeners = new Set<(message: StandInMessage) => void>()
  const listed: ListedMessage[] = []
  const keep = (message: StandInMessage) => {
    // `sms` counts the Messages API: WhatsApp messages too.
    if (message.channel === 'sms' || message.channel === 'whatsapp') counts.sms++
    else if (message.channel === 'voice') counts.calls++
    else counts.emails++
    if (keepMessages) messages.push(message)
    for (const listener of listeners) listener(message)
  }

  // Twilio reports delivery a moment later, signed over the callback URL with the account's token, with
  // the fields its status callbacks carry.
  async function reportDelivered(
    callback: string,
    sent: { sid: string; kind: 'sms' | 'voice'; to: string; from: string },
  ) {
    const { sid, kind, to, from } = sent
    const common = { AccountSid: accountSid, ApiVersion: '2010-04-01', From: from, To: to }
    const form: Record<string, string> =
      kind === 'sms'
        ? { ...common, MessageSid: sid, SmsSid: sid, MessageStatus: 'delivered', SmsStatus: 'delivered' }
        : {
            ...common,
            CallSid: sid,
            CallStatus: 'completed',
            CallDuration: '20',
            Direction: 'outbound-api',
            CallbackSource: 'call-progress-events',
            SequenceNumber: '0',
          }
    try {
      await fetch(callback, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, callback, form),
        },
        body: new URLSearchParams(form).toString(),
      })
    } catch (err) {
      log.warn({ err }, 'stand-in could not report delivery')
    }
  }

  const http = createServer(async (request, response) => {
    const form = Object.fromEntries(new URLSearchParams(await readBody(request)))
    const url = new URL(request.url ?? '/', 'http://localhost')
    const path = url.pathname
    if (request.method === 'GET' && path === `/2010-04-01/Accounts/${accountSid}/Messages.json`) {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(
        JSON.stringify(twilioMessageList({ path, query: url.searchParams, messages: listed, accountSid })),
      )
      return
    }
    const kind = path.endsWith('/Calls.json') ? 'voice' : path.endsWith('/Messages.json') ? 'sms' : null
    if (request.method !== 'POST' || !kind || !form.To) {
      counts.refused++
      response.writeHead(404, { 'content-type': 'application/json' })
      response.end(
        JSON.stringify({
          code: 20_404,
          message: 'The stand-in knows Messages (sent and listed) and Calls only',
          status: 404,
        }),
      )
      return
    }
    const sid = `${kind === 'sms' ? 'SM' : 'CA'}${randomBytes(16).toString('hex')}`
    const at = Date.now()
    // The Messages API carries WhatsApp too, its addresses prefixed "whatsapp:" (issue 18).
    const channel = kind === 'sms' && form.To.startsWith('whatsapp:') ? 'whatsapp' : kind
    keep({ channel, to: form.To, body: form.Body ?? form.Twiml ?? '', sid, at })
    if (kind === 'sms') {
      listed.push({ sid, to: form.To, from: form.From ?? '', body: form.Body ?? '', at })
      if (listed.length > listedKept) listed.shift()
    }
    response.writeHead(201, { 'content-type': 'application/json' })
    response.end(
      JSON.stringify({
        sid,
        status: 'queued',
        to: form.To,
        from: form.From ?? null,
        body: form.Body ?? null,
      }),
    )
    if (reportDelivery && form.StatusCallback)
      setImmediate(
        () =>
          void reportDelivered(form.StatusCallback ?? '', {
            sid,
            kind,
            to: form.To ?? '',
            from: form.From ?? '',
          }),
      )
  })
  http.listen(0, '127.0.0.1')
  await once(http, 'listening')

  const smtp = createMailSink(({ to, raw }) => {
    for (const address of to)
      keep({
        channel: 'email',
        to: address,
        body: raw,
        sid: `mail-${randomBytes(8).toString('hex')}`,
        at: Date.now(),
      })
  })
  smtp.listen(0, '127.0.0.1')
  await once(smtp.server, 'listening')

  return {
    twilioUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    smtpUrl: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
    accountSid,
    authToken,
    messages,
    counts: (): StandInCounts => ({ ...counts }),
    onMessage: (listener: (message: StandInMessage) => void) => {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    close: async () => {
      http.closeAllConnections()
      http.close()
      await new Promise<void>((resolve) => smtp.close(() => resolve()))
    },
  }
}

export type MessageStandIns = Awaited<ReturnType<typeof startMessageStandIns>>
