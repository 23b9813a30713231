import type { FastifyInstance, FastifyReply } from 'fastify'
import { z } from 'zod'
import { locationSchema } from '../config/index.ts'
import { type TechnicianPageWorld, technicianActions, technicianPage } from '../console/index.ts'
import { type Clock, isVigieError, VigieError } from '../domain/index.ts'
import type { LinkSigner } from '../notifier/index.ts'
import type { Dispatcher, TechnicianRoster, Ticket, TicketStore } from '../rules/index.ts'
import {
  deviceCommandsOf,
  registerTechnicianCommandRoutes,
  type TechnicianCommandOptions,
} from './technician-command-routes.ts'

const params = z.object({ token: z.string().min(10).max(2000) })
const formSchema = z.object({ note: z.string().trim().max(2000).optional() })
const positionSchema = locationSchema.extend({ accuracy: z.number().min(0).max(100_000).optional() })
const formActions = ['ack', 'decline', 'en-route', 'on-site', 'resolve'] as const
type FormAction = (typeof formActions)[number]

const done: Record<FormAction, string> = {
  ack: 'Accepted: the ticket is yours.',
  decline: 'Declined: the next technician is asked.',
  'en-route': 'Marked en route.',
  'on-site': 'Marked on site.',
  resolve: 'Marked resolved. Thank you.',
}

// The page sits behind a signed link: nothing outside this origin, no framing, no referrer with the token.
export const pageHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
}

/**
 * The technician page behind every SMS and email link, `/t/<signed token>`: no API key, the signature and
 * its expiry are the credential; it names one ticket and one technician, who acts on that ticket only.
 */
export function registerTechnicianLinkRoutes(
  app: FastifyInstance,
  {
    links,
    tickets,
    dispatcher,
    roster,
    world,
    commands,
    clock,
  }: {
    links: LinkSigner
    tickets: TicketStore
    dispatcher: Dispatcher
    roster?: TechnicianRoster
    world?: TechnicianPageWorld
    /** Device commands (issue 19): the page offers its device's when given. */
    commands?: TechnicianCommandOptions
    clock: Clock
  },
): void {
  const open = (token: string) => {
    const payload = links.verify(token, clock.now())
    if (!payload)
      throw new VigieError({ code: 'AUTH_FORBIDDEN', message: 'This link is not valid or has expired' })
    return payload
  }
  async function find(id: string): Promise<Ticket> {
    const ticket = await tickets.get(id)
    if (!ticket) throw new VigieError({ code: 'NOT_FOUND', message: 'This ticket is gone' })
    return ticket
  }
  const send = async (
    reply: FastifyReply,
    status: number,
    page: { ticket: Ticket; token: string; technician: string; message?: string },
  ) => {
    const offered = commands ? await deviceCommandsOf(page.ticket, page.technician, commands) : null
    const full = { ...page, ...(world ? { world } : {}), ...(offered ? { commands: offered } : {}) }
    return reply
      .status(status)
      .headers(pageHeaders)
      .type('text/html; charset=utf-8')
      .send(technicianPage(full))
  }

  async function act(action: FormAction, ticket: Ticket, technician: string, note: string | null) {
    // Only what the page offers this technician now: an old tab cannot act on someone else's ticket.
    if (!technicianActions(ticket, technician).includes(action))
      throw new VigieError({
        code: 'CONFLICT',
        message: `This ticket is ${ticket.status.replace('_', ' ')}${ticket.assignee && ticket.assignee !== technician ? ' with someone else' : ''}: nothing to ${action} now.`,
      })
    const now = clock.now()
    if (action === 'ack') return dispatcher.accept(ticket.id, technician, now, note ?? 'from the link')
    if (action === 'decline') return dispatcher.decline(ticket.id, technician, now)
    return tickets.act(ticket.id, action, technician, now, note)
  }

  const config = { access: 'public' as const }
  void app.register(async (scope) => {
    // The page's forms post url-encoded fields; only here, since the API is JSON.
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 8192 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))),
    )

    const query = z.object({ done: z.enum(formActions).optional() })
    scope.get(
      '/t/:token',
      { config, schema: { hide: true, params, querystring: query } },
      async (request, reply) => {
        const { token } = params.parse(request.params)
        const { ticket: id, technician } = open(token)
        const { done: action } = query.parse(request.query)
        const page = { ticket: await find(id), token, technician }
        return send(reply, 200, action ? { ...page, message: done[action] } : page)
      },
    )

    for (const action of formActions) {
      scope.post(
        `/t/:token/${action}`,
        { config, schema: { hide: true, params } },
        async (request, reply) => {
          const { token } = params.parse(request.params)
          const { ticket: id, technician } = open(token)
          const form = formSchema.safeParse(request.body ?? {})
          if (!form.success) {
            // Nothing pressed: the technician keeps the page and learns why, the note is not lost silently.
            const reason = form.error.issues[0]?.code === 'too_big' ? 'over 2,000 characters' : 'not text'
            return send(reply, 422, {
              ticket: await find(id),
              token,
              technician,
              message: `Not saved: the note is ${reason}. Shorten it and press again.`,
            })
          }
          const note = form.data.note || null
          try {
            await act(action, await find(id), technician, note)
            // Post, then redirect: reloading the page does not press the button again.
            return reply.redirect(`/t/${token}?done=${action}`, 303)
          } catch (err) {
            if (!isVigieError(err) || err.status >= 500) throw err
            // A refused press shows the page as it now stands, with why, rather than a bare JSON error.
            return send(reply, err.status, {
              ticket: await find(id),
              token,
              technician,
              message: err.message,
            })
          }
        },
      )
    }

    scope.post(
      '/t/:token/position',
      { config, schema: { hide: true, params, body: positionSchema } },
      async (request) => {
        const { token } = params.parse(request.params)
        const { ticket: id, technician } = open(token)
        const ticket = await find(id)
        if (ticket.assignee !== technician && ticket.offer?.technician !== technician)
          throw new VigieError({ code: 'AUTH_FORBIDDEN', message: 'This ticket is not yours' })
        if (!roster) throw new VigieError({ code: 'NOT_FOUND', message: 'Positions are not kept here' })
        const { lat, lon } = positionSchema.parse(request.body)
        await roster.setLocation(technician, { lat, lon })
        return { technician, position: { lat, lon }, at: new Date(clock.now()).toISOString() }
      },
    )

    if (commands) registerTechnicianCommandRoutes(scope, { commands, params, open, find, world })
  })
}
