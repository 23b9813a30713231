import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { Redis, Result } from 'ioredis'
import type { Logger } from 'pino'
import { VigieError } from '../domain/index.ts'
import {
  type Command,
  type CommandStatus,
  commandMessage,
  commandSchema,
  isSettled,
} from './command-record.ts'
import { type CommandEvent, eventsMaxLength } from './events.ts'
import type { RuleKeys } from './keys.ts'
import { type Page, readSortedSetPage, type SortedSetPosition } from './sorted-set-page.ts'
import type { TicketStore } from './ticket-store.ts'

const swapScript = readFileSync(new URL('./scripts/swap-command.lua', import.meta.url), 'utf8')

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** rules/scripts/swap-command.lua */
    vigieSwapCommand(
      doc: string,
      index: string,
      expiries: string,
      events: string,
      outbox: string,
      finished: string,
      before: string,
      after: string,
      id: string,
      createdAt: number,
      expiresAt: number | '',
      event: string,
      maxLength: number,
      topic: string,
      payload: string,
      kept: number,
      documentPrefix: string,
    ): Result<number, Context>
  }
}

/** A device's answer on its status topic (DESIGN.md § MQTT). */
export type CommandAnswer = { command: string; result: 'done' | 'failed'; detail?: string | undefined }

export type CommandStore = ReturnType<typeof createCommandStore>

/**
 * Issue 19: device commands and what became of them. Each change is one compare-and-swap that writes the
 * record, its indexes and its `command.*` event together; a new command's outbox entry goes in the same step.
 */
export function createCommandStore({
  redis,
  keys,
  topicOf,
  tickets,
  kept,
  logger,
}: {
  redis: Redis
  keys: RuleKeys
  /** devices/<id>/commands/<name>: the topic layout is ingest's. */
  topicOf: (device: string, name: string) => string
  /** Notes each change on the linked ticket's timeline, when given. */
  tickets?: Pick<TicketStore, 'note'> | undefined
  /** DEVICE_COMMANDS_KEPT: past it, a new command removes the device's oldest finished ones. */
  kept: number
  logger: Logger
}) {
  redis.defineCommand('vigieSwapCommand', { numberOfKeys: 6, lua: swapScript })

  const parse = (doc: string): Command => commandSchema.parse(JSON.parse(doc))
  const iso = (ms: number) => new Date(ms).toISOString()

  async function write(before: string, next: Command, at: number, publish: boolean): Promise<boolean> {
    const event: CommandEvent = {
      type: `command.${next.status}`,
      id: next.id,
      correlationKey: `command:${next.device}`,
      at: iso(at),
      command: next,
    }
    const written = await redis.vigieSwapCommand(
      keys.command(next.id),
      keys.commandsOf(next.device),
      keys.commandExpiries,
      keys.events,
      keys.commandOutbox,
      keys.commandsFinishedOf(next.device),
      before,
      JSON.stringify(next),
      next.id,
      Date.parse(next.createdAt),
      isSettled(next.status) ? '' : Date.parse(next.expiresAt),
      JSON.stringify(event),
      eventsMaxLength,
      publish ? topicOf(next.device, next.name) : '',
      publish ? commandMessage(next) : '',
      kept,
      keys.command(''),
    )
    if (written === 1) await noteOnTicket(next, at)
    return written === 1
  }

  async function noteOnTicket(command: Command, at: number) {
    if (!command.ticket || !tickets) return
    const said = command.detail ? `: ${command.detail}` : ''
    const detail = `command ${command.name} ${command.id} ${command.status}${said}`
    const by = command.status === 'queued' ? command.by : command.device
    // The command stands whatever the ticket does; a note that failed is only logged.
    await tickets.note(command.ticket, 'ticket.commented', by, at, detail).catch((err: unknown) => {
      logger.warn({ err, ticketId: command.ticket, commandId: command.id }, 'command not noted on ticket')
    })
  }

  async function get(id: string): Promise<Command | null> {
    const doc = await redis.get(keys.command(id))
    return doc ? parse(doc) : null
  }

  /** Applies `change` atomically; null when the command is unknown or `change` declines (returns null). */
  async function move(id: string, at: number, change: (command: Command) => Command | null) {
    for (let attempt = 0; attempt < 10; attempt++) {
      const doc = await redis.get(keys.command(id))
      if (!doc) return null
      const next = change(parse(doc))
      if (!next) return null
      const moved = { ...next, updatedAt: iso(at) }
      if (await write(doc, moved, at, false)) return moved
    }
    throw new VigieError({ code: 'CONFLICT', message: `Command ${id} is changing too fast; try again` })
  }

  const from =
    (allowed: CommandStatus[], to: CommandStatus, extra: Partial<Command> = {}) =>
    (command: Command): Command | null =>
      allowed.includes(command.status) ? { ...command, ...extra, status: to } : null

  return {
    get,

    create: async ({
      device,
      name,
      args,
      ttlMs,
      by,
      ticket,
      at,
    }: {
      device: string
      name: string
      args: Record<string, unknown>
      ttlMs: number
      by: string
      ticket?: string | undefined
      at: number
    }): Promise<Command> => {
      const command: Command = {
        id: randomUUID(),
        device,
        name,
        args,
        status: 'queued',
        createdAt: iso(at),
        expiresAt: iso(at + ttlMs),
        by,
        ...(ticket ? { ticket } : {}),
        updatedAt: iso(at),
      }
      if (!(await write('', command, at, true)))
        throw new VigieError({ code: 'CONFLICT', message: `Command ${command.id} exists already` })
      return command
    },

    /** A device's commands, newest first. */
    page: ({
      device,
      limit,
      after,
    }: {
      device: string
      limit: number
      after?: SortedSetPosition | undefined
    }): Promise<Page<Command, SortedSetPosition>> =>
      readSortedSetPage({
        redis,
        key: keys.commandsOf(device),
        order: 'newest',
        limit,
        after,
        load: async (ids) => {
          if (ids.length === 0) return []
          const docs = await redis.mget(ids.map((id) => keys.command(id)))
          return docs.map((doc) => (doc ? parse(doc) : null))
        },
      }),

    /** The device has the command (its PUBACK); an answer that came first is kept. */
    markSent: (device: string, id: string, at: number) =>
      move(id, at, (c) => (c.device === device ? from(['queued'], 'sent')(c) : null)),

    /** The device's answer; one for another device's command, or a second one, changes nothing (null). */
    answer: (device: string, answer: CommandAnswer, at: number) =>
      move(answer.command, at, (c) =>
        c.device === device && Date.parse(c.expiresAt) > at
          ? from(['queued', 'sent'], answer.result, answer.detail ? { detail: answer.detail } : {})(c)
          : null,
      ),

    /** Marks expired the unanswered commands whose expiry is past; returns how many. */
    expireDue: async (at: number, max = 100): Promise<number> => {
      const due = await redis.zrangebyscore(keys.commandExpiries, '-inf', at, 'LIMIT', 0, max)
      let expired = 0
      for (const id of due) {
        const moved = await move(id, at, from(['queued', 'sent'], 'expired'))
        if (moved) expired++
        // One gone or settled meanwhile leaves the index all the same.
        else await redis.zrem(keys.commandExpiries, id)
      }
      return expired
    },
  }
}
