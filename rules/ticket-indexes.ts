import type { RuleKeys, TicketIndexField } from './keys.ts'
import type { Ticket } from './record-schemas.ts'
import { factDeltas, periodsOf } from './ticket-facts.ts'
import { isFinished } from './ticket-states.ts'

/** One write the ticket's swap script makes beside the document (rules/scripts/swap-ticket.lua). */
export type IndexOp =
  | { command: 'ZADD'; key: string; score: number; member: string }
  | { command: 'ZREM' | 'SADD' | 'SREM'; key: string; member: string }
  | { command: 'HINCRBY'; key: string; field: string; by: number }
  /** Keeps only the newest entries of a sorted set: ranks start..stop (negative from the end) go. */
  | { command: 'ZREMRANGEBYRANK'; key: string; start: number; stop: number }
  /** The key must not exist: if it does, nothing is written and the script answers its value. */
  | { command: 'CLAIM'; key: string; value: string }

/** The counters a ticket adds to as it is now: key → field → count. */
function countsOf(keys: RuleKeys, ticket: Ticket): Map<string, Map<string, number>> {
  const counts = new Map<string, Map<string, number>>()
  const add = (key: string, field: string) => {
    const fields = counts.get(key) ?? new Map<string, number>()
    fields.set(field, (fields.get(field) ?? 0) + 1)
    counts.set(key, fields)
  }
  add(keys.ticketCounts, `status:${ticket.status}`)
  if (!isFinished(ticket.status)) {
    add(keys.ticketCounts, `open:${ticket.severity}`)
    if (ticket.assignee) add(keys.technicianLoads, ticket.assignee)
  }
  return counts
}

/** The fields that never change after creation, each with the index of tickets under its value. */
const fixedFields = (t: Ticket): [TicketIndexField, string | null][] => [
  ['site', t.site],
  ['zone', t.zone],
  ['device', t.device],
  ['rule', t.rule],
  ['key', t.correlationKey],
]

/**
 * Every index, counter and KPI sum a ticket's change moves, so the script writes them in the same atomic
 * step as the document: a reader never sees a ticket its indexes disagree with.
 */
export function ticketIndexOps(keys: RuleKeys, before: Ticket | null, after: Ticket): IndexOp[] {
  const ops: IndexOp[] = []
  const { id } = after
  const created = Date.parse(after.createdAt)
  if (!before) {
    ops.push({ command: 'ZADD', key: keys.tickets, score: created, member: id })
    for (const [field, value] of fixedFields(after))
      if (value !== null)
        ops.push({ command: 'ZADD', key: keys.ticketsBy(field, value), score: created, member: id })
    ops.push({ command: 'SADD', key: keys.ticketSites, member: after.site })
  }
  if (before?.status !== after.status) {
    if (before) ops.push({ command: 'ZREM', key: keys.ticketsBy('status', before.status), member: id })
    ops.push({ command: 'ZADD', key: keys.ticketsBy('status', after.status), score: created, member: id })
  }
  // The technician's open offers: a set, read when a reply names no ticket (issue 15).
  const [was, is] = [before?.offer?.technician, after.offer?.technician]
  if (was !== is) {
    if (was) ops.push({ command: 'SREM', key: keys.offersOf(was), member: id })
    if (is) ops.push({ command: 'SADD', key: keys.offersOf(is), member: id })
  }
  const [then, now] = [before ? countsOf(keys, before) : new Map(), countsOf(keys, after)]
  for (const key of new Set([...then.keys(), ...now.keys()])) {
    const fields = new Set([...(then.get(key)?.keys() ?? []), ...(now.get(key)?.keys() ?? [])])
    for (const field of fields) {
      const by = (now.get(key)?.get(field) ?? 0) - (then.get(key)?.get(field) ?? 0)
      if (by !== 0) ops.push({ command: 'HINCRBY', key, field, by })
    }
  }
  const deltas = factDeltas(before, after)
  for (const period of deltas.size > 0 ? periodsOf(after.createdAt) : [])
    for (const [field, by] of deltas)
      ops.push({ command: 'HINCRBY', key: keys.kpiAggregate(after.site, period), field, by })
  return ops
}

/** The swap script's KEYS after the document and events, and its ops as ARGV: command, key index, a, b. */
export function encodeOps(
  ops: IndexOp[],
  firstKeyIndex: number,
): { keys: string[]; args: (string | number)[] } {
  const keys: string[] = []
  const indexOf = new Map<string, number>()
  const args: (string | number)[] = []
  for (const op of ops) {
    let index = indexOf.get(op.key)
    if (index === undefined) {
      index = firstKeyIndex + keys.length
      indexOf.set(op.key, index)
      keys.push(op.key)
    }
    if (op.command === 'ZADD') args.push(op.command, index, op.score, op.member)
    else if (op.command === 'HINCRBY') args.push(op.command, index, op.field, op.by)
    else if (op.command === 'ZREMRANGEBYRANK') args.push(op.command, index, op.start, op.stop)
    else if (op.command === 'CLAIM') args.push(op.command, index, op.value, '')
    else args.push(op.command, index, op.member, '')
  }
  return { keys, args }
}
