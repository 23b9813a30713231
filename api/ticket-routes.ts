import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { type Clock, VigieError } from '../domain/index.ts'
import {
  type Dispatcher,
  type Ticket,
  type TicketAction,
  type TicketIntake,
  type TicketStore,
  ticketSchema,
  ticketStatuses,
} from '../rules/index.ts'
import { cursorSchema, limitSchema, nextCursor, scoredPosition } from './pagination.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

const ticketListItemSchema = ticketSchema.omit({ timeline: true })

const actions: Record<string, TicketAction> = {
  ack: 'ack',
  decline: 'decline',
  'en-route': 'en-route',
  'on-site': 'on-site',
  resolve: 'resolve',
}

const withoutTimeline = ({ timeline: _timeline, ...ticket }: Ticket) => ticket

/** DESIGN.md § HTTP API, tickets part. Viewers read; dispatchers act; a technician acts on their own tickets. */
export function registerTicketRoutes(
  app: FastifyInstance,
  {
    tickets,
    dispatcher,
    clock,
    contacts,
  }: {
    tickets: TicketStore
    dispatcher?: Dispatcher | undefined
    clock: Clock
    /** A customer-contact naming the customer enters their history (issue 18). */
    contacts?: { intake: TicketIntake; customerExists: (id: string) => Promise<boolean> } | undefined
  },
): void {
  const routes = app.withTypeProvider<ZodTypeProvider>()
  const byId = z.object({ id: z.string().min(1).max(64) })

  async function find(id: string): Promise<Ticket> {
    const ticket = await tickets.get(id)
    if (!ticket) throw new VigieError({ code: 'NOT_FOUND', message: `No ticket ${id}` })
    return ticket
  }

  function actor(request: FastifyRequest, ticket: Ticket): string {
    const principal = request.principal
    if (principal?.role === 'technician' && ticket.assignee !== principal.technician) {
      throw new VigieError({ code: 'AUTH_FORBIDDEN', message: 'A technician acts on their own tickets only' })
    }
    return principal?.technician ?? principal?.name ?? 'unknown'
  }

  routes.get(
    '/api/tickets',
    {
      schema: {
        tags: ['tickets'],
        summary:
          'Tickets, newest first, filtered by status, site, zone, device, rule or correlation key (each read through its index); page on with cursor=next',
        querystring: z.object({
          status: z.enum(ticketStatuses).optional(),
          site: z.string().max(64).optional(),
          device: z.string().max(256).optional(),
          rule: z.string().max(64).optional(),
          zone: z.string().max(64).optional(),
          correlationKey: z.string().max(512).optional(),
          limit: limitSchema,
          cursor: cursorSchema(scoredPosition),
        }),
        response: {
          200: listSchema(ticketListItemSchema),
          400: errorResponseSchema,
          401: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const { cursor, ...query } = request.query
      const page = await tickets.page({ ...query, after: cursor })
      return { items: page.items.map(withoutTimeline), next: nextCursor(page.next) }
    },
  )

  routes.get(
    '/api/tickets/:id',
    {
      schema: {
        tags: ['tickets'],
        summary: 'One ticket with its timeline',
        params: byId,
        response: { 200: ticketSchema, 401: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => find(request.params.id),
  )

  routes.post(
    '/api/tickets/:id/:action',
    {
      config: { access: ['dispatcher', 'technician'] },
      schema: {
        tags: ['tickets'],
        summary:
          'ack, decline, en-route, on-site or resolve (with an optional note); comment (with text); customer-contact (a customer called support about it)',
        params: byId.extend({
          action: z.enum(['ack', 'decline', 'en-route', 'on-site', 'resolve', 'comment', 'customer-contact']),
        }),
        body: z
          .strictObject({
            note: z.string().min(1).max(2000).optional(),
            text: z.string().min(1).max(2000).optional(),
            /** customer-contact: who called, a customer id; the contact enters their history. */
            customer: z.string().min(1).max(64).optional(),
          })
          .default({}),
        response: {
          200: ticketSchema,
          400: errorResponseSchema,
          401: errorResponseSchema,
          403: errorResponseSchema,
          404: errorResponseSchema,
          409: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const { id, action } = request.params
      const by = actor(request, await find(id))
      if (action === 'comment') {
        if (!request.body.text)
          throw new VigieError({ code: 'VALIDATION_FAILED', message: 'A comment needs text' })
        return tickets.note(id, 'ticket.commented', by, clock.now(), request.body.text)
      }
      // The support desk logs a customer who reached out first: the KPI of incidents fixed before that.
      const { customer } = request.body
      if (action === 'customer-contact' && customer !== undefined) {
        if (!contacts || !(await contacts.customerExists(customer)))
          throw new VigieError({ code: 'VALIDATION_FAILED', message: `No customer ${customer}` })
        return contacts.intake.contact(id, customer, by, clock.now(), request.body.text ?? null)
      }
      if (action === 'customer-contact')
        return tickets.note(id, 'ticket.customer_contacted', by, clock.now(), request.body.text ?? null)
      // Accepting closes the offer; declining moves it to the next technician. A technician answers only
      // an offer they hold; a dispatcher answers for whoever holds it.
      const answering = { override: request.principal?.role !== 'technician' }
      if (dispatcher && action === 'ack')
        return dispatcher.accept(id, by, clock.now(), request.body.note ?? null, answering)
      if (dispatcher && action === 'decline') return dispatcher.decline(id, by, clock.now(), answering)
      return tickets.act(id, actions[action] as TicketAction, by, clock.now(), request.body.note ?? null)
    },
  )
}
