import { randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SMTPServer } from 'smtp-server'

/** What the stand-ins accepted since they started: the messages vigie really sent. */
export type StandInCounts = { sms: number; calls: number; emails: number; refused: number }

export type StandIns = {
  twilioUrl: string
  smtpUrl: string
  counts: () => StandInCounts
  close: () => Promise<void>
}

/**
 * A Twilio-compatible API (201 `{sid, status: 'queued'}` to POST …/Messages.json and …/Calls.json) and a
 * real SMTP server, on free loopback ports: the notifier sends through its real clients and nothing
 * leaves the machine. They keep counts only, so a long run does not hold every message.
 */
export async function startStandIns(): Promise<StandIns> {
  const counts: StandInCounts = { sms: 0, calls: 0, emails: 0, refused: 0 }
  const twilio = createServer((request, response) => {
    // The form is not needed: drained so the connection can be reused.
    request.resume()
    request.on('end', () => {
      const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname
      const kind = request.method === 'POST' && /\/(Messages|Calls)\.json$/.exec(path)?.[1]
      if (!kind) {
        counts.refused++
        response.writeHead(404, { 'content-type': 'application/json' })
        response.end(JSON.stringify({ code: 20_404, message: 'not found', status: 404 }))
        return
      }
      if (kind === 'Messages') counts.sms++
      else counts.calls++
      const sid = `${kind === 'Messages' ? 'SM' : 'CA'}${randomBytes(16).toString('hex')}`
      response.writeHead(201, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ sid, status: 'queued' }))
    })
  })
  twilio.listen(0, '127.0.0.1')
  await once(twilio, 'listening')

  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      stream.resume()
      stream.on('end', () => {
        counts.emails++
        callback()
      })
    },
  })
  smtp.listen(0, '127.0.0.1')
  await once(smtp.server, 'listening')

  const port = (server: { address: () => AddressInfo | string | null }) =>
    (server.address() as AddressInfo).port
  return {
    twilioUrl: `http://127.0.0.1:${port(twilio)}`,
    smtpUrl: `smtp://127.0.0.1:${port(smtp.server)}`,
    counts: () => ({ ...counts }),
    close: async () => {
      twilio.closeAllConnections()
      await Promise.all([
        new Promise<void>((resolve) => twilio.close(() => resolve())),
        new Promise<void>((resolve) => smtp.close(() => resolve())),
      ])
    },
  }
}
