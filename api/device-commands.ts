import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { type CommandCatalogue, commandArgsSchema, describeIssue, flattenIssues } from '../config/index.ts'
import { type Clock, type DeviceKind, VigieError } from '../domain/index.ts'
import {
  type CommandStore,
  commandSchema,
  isFinished,
  type Ticket,
  type TicketStore,
} from '../rules/index.ts'
import { deviceIdSchema } from './device-schemas.ts'
import { cursorSchema, limitSchema, nextCursor, scoredPosition } from './pagination.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

const byId = z.object({ id: deviceIdSchema })

const newCommandSchema = z.strictObject({
  name: z.string().min(1).max(64),
  args: z.record(z.string().max(64), z.unknown()).optional(),
  /** Seconds the command may wait for the device: a week at most. */
  ttl: z.number().int().min(1).max(604_800).default(300),
  /** An open ticket of this device, whose timeline notes the command. */
  ticket: z.string().min(1).max(64).optional(),
})

export type DeviceCommandOptions = {
  commands: CommandStore
  catalogue: CommandCatalogue
  /** The kind of a device, or null when there is no such device. */
  kindOf: (device: string) => Promise<DeviceKind | null>
  /** Open tickets of a device: a technician commands only a device of their own, and a command links to one. */
  tickets?: Pick<TicketStore, 'list' | 'get'> | undefined
  clock: Clock
}

const refuse = (message: string, details?: unknown) =>
  new VigieError({ code: 'VALIDATION_FAILED', message, ...(details === undefined ? {} : { details }) })

/** Issue 19: commands to a device, checked against what its kind takes (the site file's `commands:`). */
export function registerDeviceCommandRoutes(
  app: FastifyInstance,
  { commands, catalogue, kindOf, tickets, clock }: DeviceCommandOptions,
): void {
  const routes = app.withTypeProvider<ZodTypeProvider>()

  async function openTicketsOf(device: string): Promise<Ticket[]> {
    if (!tickets) return []
    return (await tickets.list({ device, limit: 100 })).filter((t) => !isFinished(t.status))
  }

  /** Who asks: a technician only for a device with an open ticket assigned to them. */
  async function askerOf(request: FastifyRequest, device: string): Promise<string> {
    const principal = request.principal
    if (principal?.role !== 'technician') return principal?.name ?? 'unknown'
    const mine = (await openTicketsOf(device)).some((t) => t.assignee === principal.technician)
    if (!mine || !principal.technician)
      throw new VigieError({
        code: 'AUTH_FORBIDDEN',
        message: 'A technician commands only a device of an open ticket assigned to them',
      })
    return principal.technician
  }

  routes.post(
    '/api/devices/:id/commands',
    {
      config: { access: ['dispatcher', 'technician'] },
      schema: {
        tags: ['devices'],
        summary:
          'Send a command to a device (QoS 1 on devices/<id>/commands/<name>); one its kind does not take, or args its schema refuses, is a 400',
        params: byId,
        body: newCommandSchema,
        response: {
          201: commandSchema,
          400: errorResponseSchema,
          403: errorResponseSchema,
          404: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const device = request.params.id
      const kind = await kindOf(device)
      if (!kind) throw new VigieError({ code: 'NOT_FOUND', message: `No device ${device}` })
      const by = await askerOf(request, device)
      const { name, args = {}, ttl, ticket } = request.body
      const spec = catalogue[kind]?.[name]
      if (!spec) {
        const taken = Object.keys(catalogue[kind] ?? {})
        throw refuse(
          `A ${kind} device does not take the command ${JSON.stringify(name)}; it takes ${taken.length ? taken.join(', ') : 'none'}`,
        )
      }
      const parsed = commandArgsSchema(spec).safeParse(args)
      if (!parsed.success) {
        const problems = flattenIssues(parsed.error.issues).map(({ path, issue }) => ({
          path: ['args', ...path].map(String).join('.'),
          reason: describeIssue(issue),
        }))
        throw refuse(
          `Args refused for ${name}: ${problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}`,
          problems,
        )
      }
      if (ticket && !(await openTicketsOf(device)).some((t) => t.id === ticket))
        throw refuse(`Ticket ${ticket} is not an open ticket of device ${device}`)
      const command = await commands.create({
        device,
        name,
        args: parsed.data,
        ttlMs: ttl * 1000,
        by,
        ticket,
        at: clock.now(),
      })
      return reply.code(201).send(command)
    },
  )

  routes.get(
    '/api/devices/:id/commands',
    {
      schema: {
        tags: ['devices'],
        summary: "A device's commands and what became of each, newest first; page on with cursor=next",
        params: byId,
        querystring: z.object({ limit: limitSchema, cursor: cursorSchema(scoredPosition) }),
        response: { 200: listSchema(commandSchema), 400: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const device = request.params.id
      if (!(await kindOf(device))) throw new VigieError({ code: 'NOT_FOUND', message: `No device ${device}` })
      const page = await commands.page({ device, limit: request.query.limit, after: request.query.cursor })
      return { items: page.items, next: nextCursor(page.next) }
    },
  )
}
