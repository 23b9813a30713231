import type { RuleKeys } from './keys.ts'
import type { IndexOp } from './ticket-indexes.ts'

/** Entries kept per customer: the oldest go as new ones come (README § Customers' history). */
export const customerHistoryMax = 1000

/**
 * What one member of a customer's history names (the sorted set `customer-history:<customer>`, scored by
 * time): a ticket that concerned them, a message sent to them, an answer they gave, a contact with support.
 * Tickets and messages are loaded at read time (their status moves on); answers and contacts are whole here.
 */
export type CustomerHistoryMember =
  | { kind: 'ticket'; ticket: string }
  | { kind: 'message'; notification: string }
  | { kind: 'answer'; at: number; ticket: string; value: string }
  | { kind: 'customer-contact'; at: number; ticket: string; via: 'reported' | 'support' }

/** The member encoding: kind, then its parts joined by "|"; the last part may hold "|" itself. */
export const customerHistoryMember = {
  of: (entry: CustomerHistoryMember): string => {
    switch (entry.kind) {
      case 'ticket':
        return `ticket|${entry.ticket}`
      case 'message':
        return `message|${entry.notification}`
      case 'answer':
        return `answer|${entry.at}|${entry.ticket}|${entry.value}`
      case 'customer-contact':
        return `contact|${entry.at}|${entry.via}|${entry.ticket}`
    }
  },
  read: (member: string): CustomerHistoryMember | null => {
    const [kind = '', ...parts] = member.split('|')
    const rest = (from: number) => parts.slice(from).join('|')
    if (kind === 'ticket') return { kind, ticket: rest(0) }
    if (kind === 'message') return { kind, notification: rest(0) }
    const at = Number(parts[0])
    if (!Number.isFinite(at)) return null
    if (kind === 'answer') return { kind, at, ticket: parts[1] ?? '', value: rest(2) }
    if (kind === 'contact' && (parts[1] === 'reported' || parts[1] === 'support'))
      return { kind: 'customer-contact', at, via: parts[1], ticket: rest(2) }
    return null
  },
}

/** The writes that add an entry to a customer's history and keep it bounded, for the ticket's swap script. */
export function customerHistoryOps(
  keys: RuleKeys,
  customer: string,
  at: number,
  entries: CustomerHistoryMember[],
  max = customerHistoryMax,
): IndexOp[] {
  const key = keys.customerHistory(customer)
  return [
    ...entries.map(
      (entry): IndexOp => ({ command: 'ZADD', key, score: at, member: customerHistoryMember.of(entry) }),
    ),
    { command: 'ZREMRANGEBYRANK', key, start: 0, stop: -max - 1 },
  ]
}
