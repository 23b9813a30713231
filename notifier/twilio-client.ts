import twilio from 'twilio'
import type { Clock } from '../domain/index.ts'
import { retryAfterMs, transientFailure } from './delivery-error.ts'

type RequestOptions = Parameters<twilio.RequestClient['request']>[0]

/**
 * The twilio SDK pointed at `apiUrl` (TWILIO_API_URL), so any Twilio-compatible API, or a local test
 * server, receives its real requests. A 429 or 5xx becomes a transient failure that keeps `Retry-After`,
 * which the SDK's own error drops.
 */
export function createTwilioClient({
  accountSid,
  authToken,
  apiUrl,
  clock,
}: {
  accountSid: string
  authToken: string
  apiUrl: string
  /** An HTTP-date Retry-After is read against it. */
  clock: Clock
}) {
  const base = new URL(apiUrl)
  class RedirectingClient extends twilio.RequestClient {
    override async request<TData>(opts: RequestOptions & { data?: TData }) {
      const uri = new URL(opts.uri)
      uri.protocol = base.protocol
      uri.host = base.host
      uri.pathname = `${base.pathname.replace(/\/$/, '')}${uri.pathname}`
      const response = await super.request({ ...opts, uri: uri.toString() })
      if (response.statusCode === 429 || response.statusCode >= 500) {
        const after = retryAfterMs(
          (response.headers as Record<string, unknown> | undefined)?.['retry-after'],
          clock.now(),
        )
        throw transientFailure(
          `Twilio answered ${response.statusCode}`,
          after === undefined ? {} : { retryAfterMs: after },
        )
      }
      return response
    }
  }
  return twilio(accountSid, authToken, { httpClient: new RedirectingClient({ timeout: 15_000 }) })
}

export type TwilioClient = ReturnType<typeof createTwilioClient>
