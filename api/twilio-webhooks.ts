import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import twilio from 'twilio'
import { z } from 'zod'
import { escapeHtml, VigieError } from '../domain/index.ts'
import type { NotificationStore } from '../notifier/index.ts'
import type { Dispatcher, TechnicianRoster, TicketStore } from '../rules/index.ts'

export type TwilioWebhookOptions = {
  authToken: string
  /** The address Twilio calls us at: signatures are computed over PUBLIC_URL + path. */
  publicUrl: string
  redis: Redis
  prefix: string
  tickets: TicketStore
  dispatcher: Dispatcher
  roster: TechnicianRoster
  notifications: NotificationStore
}

// Twilio posts flat form fields; their meaning is checked where each is used, the shape here.
const twilioFormSchema = z.record(z.string().max(200), z.string().max(5000))

const accepts = new Set(['1', 'OK', 'OUI', 'YES'])
const declines = new Set(['2', 'NO', 'NON'])
const xml = (text: string) => `<?xml version="1.0" encoding="UTF-8"?><Response>${text}</Response>`

/**
 * DESIGN.md § HTTP API: Twilio's webhooks, form-encoded, each checked against X-Twilio-Signature (403
 * otherwise). A replayed webhook (same message or call and digits) changes nothing twice.
 */
export function registerTwilioWebhooks(app: FastifyInstance, options: TwilioWebhookOptions): void {
  const { authToken, publicUrl, redis, prefix, tickets, dispatcher, roster, notifications } = options
  void app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(String(body))))
      },
    )

    function formOf(request: FastifyRequest): Record<string, string> {
      const parsed = twilioFormSchema.safeParse(request.body ?? {})
      if (!parsed.success)
        throw new VigieError({ code: 'BAD_REQUEST', message: 'A Twilio webhook posts a flat form' })
      const form = parsed.data
      const signature = request.headers['x-twilio-signature']
      if (
        typeof signature !== 'string' ||
        !twilio.validateRequest(authToken, signature, `${publicUrl}${request.url}`, form)
      )
        throw new VigieError({ code: 'AUTH_FORBIDDEN', message: 'Bad or missing X-Twilio-Signature' })
      return form
    }

    /** True the first time this webhook is seen; Twilio retries, and an attacker may replay. */
    const firstTime = async (id: string) =>
      (await redis.set(`${prefix}webhook-seen:${id}`, '1', 'EX', 7 * 86_400, 'NX')) === 'OK'

    /** The ticket currently offered to this technician, newest first. */
    async function offeredTo(technician: string) {
      const assigned = await tickets.list({ limit: 100, status: 'assigned' })
      return assigned.find((t) => t.offer?.technician === technician) ?? null
    }

    async function answer(ticketId: string, technician: string, yes: boolean): Promise<string> {
      const ticket = yes
        ? await dispatcher.accept(ticketId, technician, Date.now(), 'by reply')
        : await dispatcher.decline(ticketId, technician, Date.now())
      return yes
        ? `OK: ticket ${ticket.id.slice(0, 8)} is yours.`
        : `Declined: ticket ${ticket.id.slice(0, 8)} moves on.`
    }

    const publicRoute = { config: { access: 'public' as const }, schema: { hide: true } }

    scope.post('/webhooks/twilio/sms', publicRoute, async (request, reply) => {
      const form = formOf(request)
      reply.type('text/xml')
      if (!(await firstTime(`sms:${form.MessageSid ?? ''}`))) return xml('')
      const from = form.From ?? ''
      // The first word decides; whatever follows ("oui, j'arrive") is ignored.
      const word = /^[\p{L}0-9]+/u.exec((form.Body ?? '').trim().toUpperCase())?.[0] ?? ''
      if (word === 'STOP') {
        await redis.sadd(`${prefix}opted-out`, from)
        return xml('')
      }
      if (word === 'START') {
        await redis.srem(`${prefix}opted-out`, from)
        return xml('')
      }
      const technician = (await roster.list()).find((t) => t.phone === from)
      const ticket = technician ? await offeredTo(technician.id) : null
      if (!ticket && /^[1-5]$/.test(word)) {
        // A customer's answer to the survey (CSAT, 1 to 5), filed on the ticket it was about.
        const surveyed = await redis.getdel(`${prefix}survey-pending:${from}`)
        if (surveyed) {
          await tickets.note(surveyed, 'ticket.survey_answered', 'customer', Date.now(), word)
          return xml('<Message>Merci ! Thank you!</Message>')
        }
      }
      if (!accepts.has(word) && !declines.has(word)) return xml('')
      if (!technician || !ticket) return xml('<Message>No offer waits for you.</Message>')
      const text = await answer(ticket.id, technician.id, accepts.has(word)).catch(
        () => 'This offer is no longer open.',
      )
      return xml(`<Message>${escapeHtml(text)}</Message>`)
    })

    scope.post('/webhooks/twilio/voice', publicRoute, async (request, reply) => {
      const form = formOf(request)
      reply.type('text/xml')
      const query = request.query as Record<string, string | undefined>
      const digits = form.Digits ?? ''
      if (!query.ticket || !query.technician || (digits !== '1' && digits !== '2')) return xml('<Hangup/>')
      if (!(await firstTime(`call:${form.CallSid ?? ''}:${digits}`))) return xml('<Hangup/>')
      const text = await answer(query.ticket, query.technician, digits === '1').catch(
        () => 'This offer is no longer open.',
      )
      return xml(`<Say>${escapeHtml(text)}</Say><Hangup/>`)
    })

    scope.post('/webhooks/twilio/status', publicRoute, async (request, reply) => {
      const form = formOf(request)
      const sid = form.MessageSid ?? form.CallSid ?? ''
      const status = form.MessageStatus ?? form.CallStatus ?? ''
      const record = await notifications.byProviderId(sid)
      if (record) {
        const next = ['delivered', 'completed', 'read'].includes(status)
          ? 'delivered'
          : ['failed', 'undelivered', 'busy', 'no-answer', 'canceled'].includes(status)
            ? 'failed'
            : record.status
        if (next !== record.status) await notifications.save({ ...record, status: next })
      }
      return reply.status(204).send()
    })
  })
}
