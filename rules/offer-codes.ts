import type { Ticket } from './record-schemas.ts'

/** Three letters or digits, one digit at least: a word typed after "1" ("oui oui") is not read as a code. */
export const offerCodePattern = /^(?=[A-Z]*\d)[0-9A-Z]{3}$/

/** An offer's short code: three characters of the ticket id, upper case, that no other open offer of the technician has. */
export function offerCode(ticketId: string, taken: ReadonlySet<string>): string {
  const chars = ticketId.toUpperCase().replace(/[^0-9A-Z]/g, '')
  for (let i = 0; i + 3 <= chars.length; i++) {
    const code = chars.slice(i, i + 3)
    if (offerCodePattern.test(code) && !taken.has(code)) return code
  }
  // Every window of the id is taken or has no digit: count up instead.
  for (let n = 0; ; n++) {
    const code = n.toString(36).toUpperCase().padStart(3, '0')
    if (offerCodePattern.test(code) && !taken.has(code)) return code
  }
}

/** The code a reply names for this offer; an offer made before codes existed gets the one its id gives. */
export const codeOf = (ticket: Ticket): string => ticket.offer?.code ?? offerCode(ticket.id, new Set())
