import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { commandArgSpecSchema } from '../config/index.ts'
import { VigieError } from '../domain/index.ts'
import { type CommandStore, commandSchema } from '../rules/index.ts'
import { type CommandSender, newCommandSchema } from './command-sender.ts'
import { deviceIdSchema } from './device-schemas.ts'
import { cursorSchema, limitSchema, nextCursor, scoredPosition } from './pagination.ts'
import { errorResponseSchema, listSchema } from './response-shapes.ts'

const byId = z.object({ id: deviceIdSchema })

const catalogueSchema = z.object({
  device: z.string(),
  kind: z.string(),
  commands: z.array(z.object({ name: z.string(), args: z.record(z.string(), commandArgSpecSchema) })),
})

/** Who asks, and the technician when it is one: a technician key names theirs, or it may not command. */
function askerOf(request: FastifyRequest): { by: string; technician?: string } {
  const principal = request.principal
  if (principal?.role !== 'technician') return { by: principal?.name ?? 'unknown' }
  if (!principal.technician)
    throw new VigieError({
      code: 'AUTH_FORBIDDEN',
      message: 'A technician commands only a device of an open ticket assigned to them',
    })
  return { by: principal.technician, technician: principal.technician }
}

/** Issue 19: commands to a device, checked against what its kind takes (the site file's `commands:`). */
export function registerDeviceCommandRoutes(
  app: FastifyInstance,
  { sender, commands }: { sender: CommandSender; commands: Pick<CommandStore, 'page'> },
): void {
  const routes = app.withTypeProvider<ZodTypeProvider>()

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
      const command = await sender.send({ device: request.params.id, ...request.body, ...askerOf(request) })
      return reply.code(201).send(command)
    },
  )

  routes.get(
    '/api/devices/:id/commands/catalogue',
    {
      schema: {
        tags: ['devices'],
        summary:
          "The commands this device's kind takes (the site file's `commands:`), with each one's arguments",
        params: byId,
        response: { 200: catalogueSchema, 400: errorResponseSchema, 404: errorResponseSchema },
      },
    },
    async (request) => {
      const device = request.params.id
      const kind = await sender.kindOfDevice(device)
      const commands = Object.entries(sender.takes(kind)).map(([name, spec]) => ({ name, args: spec.args }))
      return { device, kind, commands }
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
      await sender.kindOfDevice(device)
      const page = await commands.page({ device, limit: request.query.limit, after: request.query.cursor })
      return { items: page.items, next: nextCursor(page.next) }
    },
  )
}
