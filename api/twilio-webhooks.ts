import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { Redis } from 'ioredis'
import twilio from 'twilio'
import { z } from 'zod'
import type { SiteFile } from '../config/index.ts'
import { type Clock, escapeHtml, isVigieError, surveyScales, VigieError } from '../domain/index.ts'
import {
  createSurveyAnswers,
  type NotificationStore,
  notificationKeys,
  phoneOfAddress,
  type SurveyAnswers,
} from '../notifier/index.ts'
import type { Dispatcher, TechnicianRoster, TicketStore } from '../rules/index.ts'
import { apiRedisKeys } from './keys.ts'
import { chooseOffer, readOfferReply } from './offer-replies.ts'
import {
  gatherSchema,
  inboundSmsSchema,
  readFlatForm,
  readTwilioForm,
  receiptSchemaOf,
} from './twilio-forms.ts'

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
  clock: Clock
  /** Where survey answers are filed, once per customer and ticket (issue 18); made here when not given. */
  surveys?: SurveyAnswers | undefined
}

// A gather URL names the ticket and the technician called about it (notifier's staff notices).
const gatherQuery = z.object({ ticket: z.string().min(1).max(64), technician: z.string().min(1).max(64) })
const xml = (text: string) => `<?xml version="1.0" encoding="UTF-8"?><Response>${text}</Response>`

// How long a webhook is remembered: a reply for a month; a receipt as long as the record it updates
// can be found by its message id (notification-store, 7 days).
const rememberReplies = 30 * 86_400
const rememberReceipts = 7 * 86_400

/**
 * DESIGN.md § HTTP API: Twilio's webhooks, form-encoded, each checked against X-Twilio-Signature (403
 * otherwise), then against the field set Twilio sends (400 otherwise). A replayed webhook changes nothing
 * twice: each is remembered by its signature, Twilio's HMAC of exactly what it signed (URL and sorted
 * fields run together), which folding fields into one another or spelling the URL another way keeps.
 */
export function registerTwilioWebhooks(app: FastifyInstance, options: TwilioWebhookOptions): void {
  const { authToken, publicUrl, redis, prefix, tickets, dispatcher, roster, notifications, world, clock } =
    options
  const keys = apiRedisKeys(prefix)
  const surveys =
    options.surveys ??
    createSurveyAnswers({ redis, prefix, tickets, notifications, linkLifetimeMs: 14 * 86_400_000 })
  // Opt-outs and pending surveys are the notifier's: it reads them before each send.
  const notifierKeys = notificationKeys(prefix)
  void app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 65_536 },
      (_request, body, done) => {
        const fields = [...new URLSearchParams(String(body))]
        const form = Object.fromEntries(fields)
        // Twilio sends each field once: a repeated one would be read as one value and signed as another.
        if (Object.keys(form).length !== fields.length)
          return done(new VigieError({ code: 'BAD_REQUEST', message: 'A field is repeated' }))
        done(null, form)
      },
    )

    /** The webhook's fields, checked as Twilio signs and sends them, and the signature it came with. */
    function received<T extends z.ZodType>(
      request: FastifyRequest,
      what: string,
      schemaOf: (form: Record<string, string>) => T,
    ): { data: z.infer<T>; signature: string } {
      const flat = readFlatForm(request.body)
      if ('problem' in flat)
        throw new VigieError({ code: 'BAD_REQUEST', message: `Not a Twilio form: ${flat.problem}` })
      const signature = request.headers['x-twilio-signature']
      if (
        typeof signature !== 'string' ||
        !twilio.validateRequest(authToken, signature, `${publicUrl}${request.url}`, flat.form)
      )
        throw new VigieError({ code: 'AUTH_FORBIDDEN', message: 'Bad or missing X-Twilio-Signature' })
      const read = readTwilioForm(schemaOf(flat.form), flat.form)
      if ('problem' in read)
        throw new VigieError({ code: 'VALIDATION_FAILED', message: `Not a Twilio ${what}: ${read.problem}` })
      return { data: read.data, signature }
    }

    /** True the first time this signed request is seen; Twilio retries, and an attacker may replay. */
    const firstTime = async (signature: string, seconds: number) => {
      const seen = createHash('sha256').update(signature).digest('hex')
      return (await redis.set(keys.webhookSeen(seen), '1', 'EX', seconds, 'NX')) === 'OK'
    }

    /** Accepts or declines as the technician: refused, with why, unless they hold the offer now. */
    async function answer(ticketId: string, technician: string, yes: boolean): Promise<string> {
      try {
        const ticket = yes
          ? await dispatcher.accept(ticketId, technician, clock.now(), 'by reply')
          : await dispatcher.decline(ticketId, technician, clock.now())
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
      const { data: form, signature } = received(request, 'SMS', () => inboundSmsSchema)
      reply.type('text/xml')
      if (!(await firstTime(signature, rememberReplies))) return xml('')
      const from = form.From
      const said = readOfferReply(form.Body)
      if (said.word === 'STOP') {
        await redis.sadd(notifierKeys.optedOut, from)
        return xml('')
      }
      if (said.word === 'START') {
        await redis.srem(notifierKeys.optedOut, from)
        return xml('')
      }
      // A technician may answer from WhatsApp on the number vigie knows them by.
      const technician = await roster.byPhone(phoneOfAddress(from))
      const offers = technician ? await tickets.offersOf(technician.id) : []
      if (offers.length === 0) {
        // A customer's answer to the survey they were sent (CSAT 1–5, NPS 0–10, CES 1–7), filed on its ticket.
        const surveyed = await surveys.fromSms(from, said.word, clock.now())
        if (surveyed.outcome === 'recorded') return xml('<Message>Merci ! Thank you!</Message>')
        if (surveyed.outcome === 'already')
          return xml('<Message>Déjà enregistrée, merci ! Already recorded, thank you!</Message>')
        if (surveyed.outcome === 'out-of-range') {
          const { min, max } = surveyScales[surveyed.kind]
          return xml(`<Message>Répondez de ${min} à ${max}. Reply ${min} to ${max}.</Message>`)
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
      const { data: form, signature } = received(request, 'key press', () => gatherSchema)
      reply.type('text/xml')
      const query = gatherQuery.safeParse(request.query)
      if (!query.success || (form.Digits !== '1' && form.Digits !== '2')) return xml('<Hangup/>')
      if (!(await firstTime(signature, rememberReplies))) return xml('<Hangup/>')
      // The URL names who was called about what; the key acts only if they still hold that offer.
      const text = await answer(query.data.ticket, query.data.technician, form.Digits === '1')
      return xml(`<Say>${escapeHtml(text)}</Say><Hangup/>`)
    })

    scope.post('/webhooks/twilio/status', publicRoute, async (request, reply) => {
      const { data, signature } = received(request, 'status callback', receiptSchemaOf)
      if (!(await firstTime(signature, rememberReceipts))) return reply.status(204).send()
      const { sid, status } = data
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
