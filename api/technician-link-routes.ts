import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { escapeHtml, VigieError } from '../domain/index.ts'
import type { LinkSigner } from '../notifier/index.ts'
import type { Dispatcher, Ticket, TicketStore } from '../rules/index.ts'

function page(ticket: Ticket, token: string, technician: string): string {
  const offered = ticket.offer?.technician === technician
  const rows = ticket.timeline
    .map(
      (e) => `<li>${escapeHtml(e.at.slice(11, 19))} ${escapeHtml(e.type)} ${escapeHtml(e.detail ?? '')}</li>`,
    )
    .join('')
  const actions = offered
    ? `<form method="post" action="/t/${token}/ack"><button>Accept</button></form>
<form method="post" action="/t/${token}/decline"><button>Decline</button></form>`
    : ''
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>vigie — ${escapeHtml(ticket.rule)}</title></head><body>
<h1>${escapeHtml(ticket.rule)} (${escapeHtml(ticket.severity)})</h1>
<p>${escapeHtml([ticket.site, ticket.zone, ticket.device].filter(Boolean).join(' / '))} — status ${escapeHtml(ticket.status)}</p>
${actions}<ol>${rows}</ol></body></html>`
}

/**
 * The technician page behind every SMS and email link, `/t/<signed token>`: no API key, the signature and
 * its expiry are the credential; it names one ticket and one technician.
 */
export function registerTechnicianLinkRoutes(
  app: FastifyInstance,
  { links, tickets, dispatcher }: { links: LinkSigner; tickets: TicketStore; dispatcher: Dispatcher },
): void {
  const params = z.object({ token: z.string().min(10).max(2000) })
  const open = (token: string) => {
    const payload = links.verify(token)
    if (!payload)
      throw new VigieError({ code: 'AUTH_FORBIDDEN', message: 'This link is not valid or has expired' })
    return payload
  }
  const config = { access: 'public' as const }
  void app.register(async (scope) => {
    // The page's buttons post an empty form.
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, _body, done) => done(null, {}),
    )
    registerIn(scope)
  })

  function registerIn(app: FastifyInstance) {
    app.get('/t/:token', { config, schema: { hide: true, params } }, async (request, reply) => {
      const { token } = params.parse(request.params)
      const { ticket: id, technician } = open(token)
      const ticket = await tickets.get(id)
      if (!ticket) throw new VigieError({ code: 'NOT_FOUND', message: 'This ticket is gone' })
      return reply.type('text/html').send(page(ticket, token, technician))
    })

    for (const action of ['ack', 'decline'] as const) {
      app.post(`/t/:token/${action}`, { config, schema: { hide: true, params } }, async (request, reply) => {
        const { token } = params.parse(request.params)
        const { ticket: id, technician } = open(token)
        if (action === 'ack') await dispatcher.accept(id, technician, Date.now(), 'from the link')
        else await dispatcher.decline(id, technician, Date.now())
        return reply.redirect(`/t/${token}`, 303)
      })
    }
  }
}
