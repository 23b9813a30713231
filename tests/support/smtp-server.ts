import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { SMTPServer } from 'smtp-server'
import { createMailSink, type ReceivedMail } from '../../demo/index.ts'

export type { ReceivedMail }

/** A real SMTP server (the smtp-server package) that keeps what it receives, and can go down and up again. */
export async function startSmtpServer() {
  const mails: ReceivedMail[] = []
  let server: SMTPServer | undefined
  let port = 0
  const listen = async () => {
    server = createMailSink((mail) => mails.push(mail))
    server.listen(port, '127.0.0.1')
    await once(server.server, 'listening')
    port = (server.server.address() as AddressInfo).port
  }
  await listen()
  const stop = async () => {
    const closing = server
    server = undefined
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()))
  }
  return {
    get url() {
      return `smtp://127.0.0.1:${port}`
    },
    mails,
    /** Stops listening; the same port comes back with start(). */
    stop,
    start: listen,
    close: stop,
  }
}
