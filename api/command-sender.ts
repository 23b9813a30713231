import { z } from 'zod'
import {
  type CommandCatalogue,
  type CommandSpec,
  commandArgsSchema,
  describeIssue,
  flattenIssues,
} from '../config/index.ts'
import { type Clock, type DeviceKind, VigieError } from '../domain/index.ts'
import { type Command, type CommandStore, isFinished, type Ticket, type TicketStore } from '../rules/index.ts'

/** A command as a caller asks for it: the API's body, and the technician page's without ttl and ticket. */
export const newCommandSchema = z.strictObject({
  name: z.string().min(1).max(64),
  args: z.record(z.string().max(64), z.unknown()).optional(),
  /** Seconds the command may wait for the device: a week at most. */
  ttl: z.number().int().min(1).max(604_800).default(300),
  /** An open ticket of this device, whose timeline notes the command. */
  ticket: z.string().min(1).max(64).optional(),
})

export type CommandSenderOptions = {
  commands: CommandStore
  catalogue: CommandCatalogue
  /** The kind of a device, or null when there is no such device. */
  kindOf: (device: string) => Promise<DeviceKind | null>
  /** Open tickets of a device: a technician commands only a device of their own, and a command links to one. */
  tickets?: Pick<TicketStore, 'list' | 'get'> | undefined
  clock: Clock
}

export type CommandSender = ReturnType<typeof createCommandSender>

const refuse = (message: string, details?: unknown) =>
  new VigieError({ code: 'VALIDATION_FAILED', message, ...(details === undefined ? {} : { details }) })

/**
 * Issue 19's rules for sending a command, whoever asks (the API or the technician page): the device exists,
 * a technician has an open ticket of it assigned to them, its kind takes the command, the args fit its schema.
 */
export function createCommandSender({ commands, catalogue, kindOf, tickets, clock }: CommandSenderOptions) {
  async function openTicketsOf(device: string): Promise<Ticket[]> {
    if (!tickets) return []
    return (await tickets.list({ device, limit: 100 })).filter((t) => !isFinished(t.status))
  }

  async function kindOfDevice(device: string): Promise<DeviceKind> {
    const kind = await kindOf(device)
    if (!kind) throw new VigieError({ code: 'NOT_FOUND', message: `No device ${device}` })
    return kind
  }

  /** A technician, only for a device with an open ticket assigned to them (that ticket, when one is named). */
  async function checkTechnician(device: string, technician: string, ticket: string | undefined) {
    const mine = (await openTicketsOf(device)).filter((t) => t.assignee === technician)
    if (ticket ? !mine.some((t) => t.id === ticket) : mine.length === 0)
      throw new VigieError({
        code: 'AUTH_FORBIDDEN',
        message: 'A technician commands only a device of an open ticket assigned to them',
      })
  }

  function checkArgs(kind: DeviceKind, name: string, args: Record<string, unknown>) {
    const spec = catalogue[kind]?.[name]
    if (!spec) {
      const taken = Object.keys(catalogue[kind] ?? {})
      throw refuse(
        `A ${kind} device does not take the command ${JSON.stringify(name)}; it takes ${taken.length ? taken.join(', ') : 'none'}`,
      )
    }
    const parsed = commandArgsSchema(spec).safeParse(args)
    if (parsed.success) return parsed.data
    const problems = flattenIssues(parsed.error.issues).map(({ path, issue }) => ({
      path: ['args', ...path].map(String).join('.'),
      reason: describeIssue(issue),
    }))
    throw refuse(
      `Args refused for ${name}: ${problems.map((p) => `${p.path}: ${p.reason}`).join('; ')}`,
      problems,
    )
  }

  return {
    /** The kind of a device, or null when there is no such device. */
    kindOf,
    /** The kind of a device; 404 when there is no such device. */
    kindOfDevice,

    /** The commands a kind takes, by name (none: an empty object). */
    takes: (kind: DeviceKind): Record<string, CommandSpec> => catalogue[kind] ?? {},

    /** Checks the request, then queues the command; `technician` is set when a technician asks. */
    send: async ({
      device,
      name,
      args = {},
      ttl,
      ticket,
      by,
      technician,
    }: {
      device: string
      name: string
      args?: Record<string, unknown> | undefined
      ttl: number
      ticket?: string | undefined
      by: string
      technician?: string | undefined
    }): Promise<Command> => {
      const kind = await kindOfDevice(device)
      if (technician !== undefined) await checkTechnician(device, technician, ticket)
      const checked = checkArgs(kind, name, args)
      if (ticket && !(await openTicketsOf(device)).some((t) => t.id === ticket))
        throw refuse(`Ticket ${ticket} is not an open ticket of device ${device}`)
      return commands.create({ device, name, args: checked, ttlMs: ttl * 1000, by, ticket, at: clock.now() })
    },
  }
}
