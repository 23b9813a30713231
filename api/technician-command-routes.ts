import type { FastifyInstance } from 'fastify'
import type { z } from 'zod'
import { clockOf, commandLine, type DeviceCommandsView, type TechnicianPageWorld } from '../console/index.ts'
import { VigieError } from '../domain/index.ts'
import type { LinkPayload } from '../notifier/index.ts'
import { type CommandStore, isFinished, type Ticket } from '../rules/index.ts'
import { type CommandSender, newCommandSchema } from './command-sender.ts'

/** Device commands on the technician page: the API's checks, and the store the page lists from. */
export type TechnicianCommandOptions = { sender: CommandSender; store: Pick<CommandStore, 'page'> }

// The page lists this many of the device's commands, newest first.
const recentMax = 10
// The page sends a name and args only: the ticket is the link's, the ttl the API's default.
const pageCommandSchema = newCommandSchema.pick({ name: true, args: true })
// A name and a few short args: anything bigger is not from the page.
const bodyLimit = 4096

const notOffered = () =>
  new VigieError({
    code: 'AUTH_FORBIDDEN',
    message: 'A technician commands only a device of an open ticket assigned to them',
  })

/**
 * What the page offers on its ticket's device: null unless the link's technician is the assignee of the
 * open ticket and the device's kind takes commands. Sending is checked again, by the API's own rules.
 */
export async function deviceCommandsOf(
  ticket: Ticket,
  technician: string,
  { sender, store }: TechnicianCommandOptions,
): Promise<DeviceCommandsView | null> {
  if (!ticket.device || ticket.assignee !== technician || isFinished(ticket.status)) return null
  const kind = await sender.kindOf(ticket.device)
  const specs = kind ? sender.takes(kind) : {}
  if (Object.keys(specs).length === 0) return null
  const { items } = await store.page({ device: ticket.device, limit: recentMax })
  return { device: ticket.device, specs, recent: items }
}

/**
 * `/t/<token>/commands` (issue 19): the page's script sends a command to the ticket's device and follows
 * what became of the device's recent ones. The signed link is the credential, as for the page's forms.
 */
export function registerTechnicianCommandRoutes(
  scope: FastifyInstance,
  {
    commands,
    params,
    open,
    find,
    world,
  }: {
    commands: TechnicianCommandOptions
    params: z.ZodType<{ token: string }>
    open: (token: string) => LinkPayload
    find: (id: string) => Promise<Ticket>
    world?: TechnicianPageWorld | undefined
  },
): void {
  const config = { access: 'public' as const }
  const timeOf = (ticket: Ticket) => clockOf(world?.sites.find((s) => s.id === ticket.site)?.timezone)

  async function ticketOf(rawParams: unknown) {
    // A malformed link is a bad request, as on the page itself, never an internal error.
    const parsed = params.safeParse(rawParams)
    if (!parsed.success)
      throw new VigieError({ code: 'VALIDATION_FAILED', message: 'This link is not a vigie link' })
    const { token } = parsed.data
    const { ticket: id, technician } = open(token)
    return { ticket: await find(id), technician }
  }

  scope.get('/t/:token/commands', { config, schema: { hide: true } }, async (request) => {
    const { ticket, technician } = await ticketOf(request.params)
    const view = await deviceCommandsOf(ticket, technician, commands)
    if (!view) throw notOffered()
    const time = timeOf(ticket)
    return { items: view.recent.map((c) => commandLine(c, time)) }
  })

  scope.post('/t/:token/commands', { config, bodyLimit, schema: { hide: true } }, async (request, reply) => {
    // The link first: a stranger learns nothing about what the body should be.
    const { ticket, technician } = await ticketOf(request.params)
    const body = pageCommandSchema.safeParse(request.body ?? {})
    if (!body.success) {
      const details = body.error.issues.map((issue) => ({
        path: ['body', ...issue.path.map(String)].join('.'),
        message: issue.message,
      }))
      const said = details.map((d) => `${d.path}: ${d.message}`).join('; ')
      throw new VigieError({ code: 'VALIDATION_FAILED', message: `Send { name, args? }: ${said}`, details })
    }
    if (!ticket.device) throw notOffered()
    const command = await commands.sender.send({
      ...newCommandSchema.parse(body.data),
      device: ticket.device,
      ticket: ticket.id,
      by: technician,
      technician,
    })
    return reply.code(201).send(commandLine(command, timeOf(ticket)))
  })
}
