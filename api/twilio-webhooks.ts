import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import twilio from 'twilio'
import { z } from 'zod'
import type { SiteFile } from '../config/index.ts'
import { escapeHtml, isVigieError, VigieError } from '../domain/index.ts'
import type { NotificationStore } from '../notifier/index.ts'
import type { Dispatcher, TechnicianRoster, TicketStore } from '../rules/index.ts'
import { chooseOffer, readOfferReply } from './offer-replies.ts'

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
  /** Names of rules and places, for an answer that lists a technician's offers. */
  world?: Pick<SiteFile, 'sites' | 'rules'> | undefined
}

// Twilio posts flat form fields; their meaning is checked where each is used, the shape here.
const twilioFormSchema = z.record(z.string().max(200), z.string().max(5000))

// A gather URL names the ticket and the technician called about it (notifier's staff notices).
const gatherQuery = z.object({ ticket: z.string().min(1).max(64), technician: z.string().min(1).max(64) })
const xml = (text: string) => `<?xml version="1.0" encoding="UTF-8"?><Response>${text}</Response>`

/**
 * DESIGN.md § HTTP API: Twilio's webhooks, form-encoded, each checked against X-Twilio-Signature (403
 * otherwise). A replayed webhook (same message or call and digits) changes nothing twice.
 */
export function registerTwilioWebhooks(app: FastifyInstance, options: TwilioWebhookOptions): void {
  const { authToken, publicUrl, redis, prefix, tickets, dispatcher, roster, notifications, world } = options
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

    /** Accepts or declines as the technician: refused, with why, unless they hold the offer now. */
    async function answer(ticketId: string, technician: string, yes: boolean): Promise<string> {
      try {
        const ticket = yes
          ? await dispatcher.accept(ticketId, technician, Date.now(), 'by reply')
          : await dispatcher.decline(ticketId, technician, Date.now())
        return yes
          ? `OK: ticket ${ticket.id.slice(0, 8)} is yours.`
          : `Declined: ticket ${ticket.id.slice(0, 8)} moves on.`
      } catch (err) {
        if (!isVigieError(err) || err.status >= 500) throw err
        return err.code === 'CONFLICT' ? err.message : 'This offer is no longer open.'
      }
    }

    const publicRoute = { config: { access: 'public' as const }, schema: { hide: true } }

    scope.post('/webhooks/twilio/sms', publicRoute, async (request, reply) => {
      const form = formOf(request)
      reply.type('text/xml')
      if (!(await firstTime(`sms:${form.MessageSid ?? ''}`))) return xml('')
      const from = form.From ?? ''
      const said = readOfferReply(form.Body ?? '')
      if (said.word === 'STOP') {
        await redis.sadd(`${prefix}opted-out`, from)
        return xml('')
      }
      if (said.word === 'START') {
        await redis.srem(`${prefix}opted-out`, from)
        return xml('')
      }
      const technician = (await roster.list()).find((t) => t.phone === from)
      const offers = technician ? await tickets.offersOf(technician.id) : []
      if (offers.length === 0 && /^[1-5]$/.test(said.word)) {
        // A customer's answer to the survey (CSAT, 1 to 5), filed on the ticket it was about.
        const surveyed = await redis.getdel(`${prefix}survey-pending:${from}`)
        if (surveyed) {
          await tickets.note(surveyed, 'ticket.survey_answered', 'customer', Date.now(), said.word)
          return xml('<Message>Merci ! Thank you!</Message>')
        }
      }
      if (!said.answer) return xml('')
      if (!technician) return xml('<Message>No offer waits for you.</Message>')
      const chosen = chooseOffer({ offers, reply: said, world })
      const text =
        'text' in chosen
          ? chosen.text
          : await answer(chosen.ticket.id, technician.id, said.answer === 'accept')
      return xml(`<Message>${escapeHtml(text)}</Message>`)
    })

    scope.post('/webhooks/twilio/voice', publicRoute, async (request, reply) => {
      const form = formOf(request)
      reply.type('text/xml')
      const query = gatherQuery.safeParse(request.query)
      const digits = form.Digits ?? ''
      if (!query.success || (digits !== '1' && digits !== '2')) return xml('<Hangup/>')
      if (!(await firstTime(`call:${form.CallSid ?? ''}:${digits}`))) return xml('<Hangup/>')
      // The URL names who was called about what; the key acts only if they still hold that offer.
      const text = await answer(query.data.ticket, query.data.technician, digits === '1')
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
