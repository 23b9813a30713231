import { createHash } from 'node:crypto'
import twilio from 'twilio'
import { z } from 'zod'
import type { Location } from '../config/index.ts'
import { SimulatorError } from './simulator-error.ts'

const locationSchema = z.object({ lat: z.number(), lon: z.number() })

/** The parts of vigie's answers the technician simulator reads (DESIGN.md § HTTP API). */
export const offeredTicketSchema = z.object({
  id: z.string(),
  status: z.string(),
  device: z.string().nullable(),
  site: z.string(),
  zone: z.string().nullable(),
  assignee: z.string().nullable(),
  offer: z.object({ technician: z.string(), code: z.string().optional() }).nullable(),
})
export type OfferedTicket = z.infer<typeof offeredTicketSchema>

const technicianSchema = z.object({
  id: z.string(),
  name: z.string(),
  phone: z.string(),
  position: locationSchema.nullable(),
})
export type TechnicianView = z.infer<typeof technicianSchema>

const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), next: z.string().nullable() })

/** A live event off GET /ws; only ticket events carry a ticket. */
export const liveEventSchema = z.object({ type: z.string(), ticket: offeredTicketSchema.optional() })

export type VigieClientOptions = {
  /** Where the API answers (http://host:port). */
  apiUrl: string
  /** PUBLIC_URL: Twilio's webhooks are signed over it, so the simulated phone posts there. */
  publicUrl: string
  apiKey: string
  twilioAuthToken: string
  /**
   * The Twilio account and number vigie uses (TWILIO_ACCOUNT_SID, TWILIO_FROM), which Twilio's requests
   * carry. Without them the simulated phone sends a well-formed account id of its own: vigie checks an
   * id's shape, the signature is what proves who sent it.
   */
  twilioAccountSid?: string | undefined
  twilioNumber?: string | undefined
}

/** vigie's HTTP API as an admin, and its SMS webhook as a phone company would call it. */
export function createVigieClient({
  apiUrl,
  publicUrl,
  apiKey,
  twilioAuthToken,
  twilioAccountSid,
  twilioNumber,
}: VigieClientOptions) {
  const accountSid =
    twilioAccountSid ?? `AC${createHash('sha256').update(twilioAuthToken).digest('hex').slice(0, 32)}`
  async function call<T extends z.ZodType>(
    schema: T,
    path: string,
    { method = 'GET', body }: { method?: string; body?: unknown } = {},
  ): Promise<z.infer<T>> {
    const res = await fetch(`${apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    if (!res.ok)
      throw new SimulatorError({
        code: 'SIM_API_FAILED',
        message: `${method} ${path}: ${res.status} ${(await res.text()).slice(0, 300)}`,
      })
    return schema.parse(res.status === 204 ? null : await res.json())
  }

  async function allPages<T extends z.ZodType>(item: T, path: string): Promise<z.infer<T>[]> {
    const items: z.infer<T>[] = []
    let cursor: string | null = null
    do {
      const joiner = path.includes('?') ? '&' : '?'
      const got: { items: z.infer<T>[]; next: string | null } = await call(
        page(item),
        `${path}${joiner}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      )
      items.push(...got.items)
      cursor = got.next
    } while (cursor)
    return items
  }

  return {
    liveUrl: `${apiUrl.replace(/^http/, 'ws')}/ws`,
    authorization: `Bearer ${apiKey}`,
    /** Unmasked phones: the key must be an admin's. */
    technicians: () => allPages(technicianSchema, '/api/technicians'),
    offeredTickets: () => allPages(offeredTicketSchema, '/api/tickets?status=assigned'),
    ticket: (id: string) => call(offeredTicketSchema, `/api/tickets/${encodeURIComponent(id)}`),
    act: (id: string, action: 'en-route' | 'on-site' | 'resolve', note?: string) =>
      call(offeredTicketSchema, `/api/tickets/${encodeURIComponent(id)}/${action}`, {
        method: 'POST',
        body: note ? { note } : {},
      }),
    moveTo: (technician: string, location: Location) =>
      call(z.null(), `/api/technicians/${encodeURIComponent(technician)}/location`, {
        method: 'PUT',
        body: location,
      }),
    /** Where the work is: the device's position, else its zone's, else its site's. */
    placeOf: async (ticket: OfferedTicket): Promise<Location | null> => {
      if (ticket.device) {
        const device = await call(
          z.object({ location: locationSchema.nullable() }),
          `/api/devices/${encodeURIComponent(ticket.device)}`,
        )
        if (device.location) return device.location
      }
      const sites = await call(
        page(
          z.object({
            id: z.string(),
            location: locationSchema,
            zones: z.array(z.object({ id: z.string(), location: locationSchema.nullable() })),
          }),
        ),
        '/api/sites',
      )
      const site = sites.items.find((s) => s.id === ticket.site)
      return site?.zones.find((z) => z.id === ticket.zone)?.location ?? site?.location ?? null
    },
    /** The technician's phone answers the offer SMS: Twilio's fields, signed as Twilio signs them. */
    replyBySms: async ({ from, body, messageSid }: { from: string; body: string; messageSid: string }) => {
      const url = `${publicUrl}/webhooks/twilio/sms`
      const form = {
        AccountSid: accountSid,
        ApiVersion: '2010-04-01',
        MessageSid: messageSid,
        SmsMessageSid: messageSid,
        SmsSid: messageSid,
        SmsStatus: 'received',
        From: from,
        ...(twilioNumber ? { To: twilioNumber } : {}),
        Body: body,
        NumMedia: '0',
        NumSegments: '1',
      }
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilio.getExpectedTwilioSignature(twilioAuthToken, url, form),
        },
        body: new URLSearchParams(form).toString(),
      })
      return { status: res.status, text: await res.text() }
    },
  }
}

export type VigieClient = ReturnType<typeof createVigieClient>
