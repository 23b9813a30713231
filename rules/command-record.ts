import { z } from 'zod'

export const commandStatuses = ['queued', 'sent', 'done', 'failed', 'expired'] as const
export type CommandStatus = (typeof commandStatuses)[number]

/** Issue 19: a command sent to a device, and what became of it. */
export const commandSchema = z.object({
  id: z.string(),
  device: z.string(),
  name: z.string(),
  args: z.record(z.string(), z.unknown()),
  status: z.enum(commandStatuses),
  createdAt: z.string(),
  expiresAt: z.string(),
  /** Who asked: an API key's name or the technician it acts for. */
  by: z.string(),
  /** The open ticket of the device the command was sent for, whose timeline notes it. */
  ticket: z.string().optional(),
  /** What the device said with its answer. */
  detail: z.string().optional(),
  updatedAt: z.string(),
})
export type Command = z.infer<typeof commandSchema>

/** What the device receives on devices/<id>/commands/<name> (DESIGN.md § MQTT). */
export const commandMessage = (command: Command) =>
  JSON.stringify({ id: command.id, name: command.name, args: command.args, expiresAt: command.expiresAt })

/** A finished command moves no more: a second answer, or one after expiry, changes nothing. */
export const isSettled = (status: CommandStatus): boolean => status !== 'queued' && status !== 'sent'
